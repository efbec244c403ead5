"""What the local server keeps in its data directory (``local/persistence.py``): item
images written as each request completes, loaded into new tables at start; the Cognito
pool's users with their ``sub``; one server per data directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto.cognitoidp.models import CognitoIdpBackend, UserStatus
from moto.dynamodb.models import DynamoDBBackend

from local.aws import HASHED_COGNITO_IDS
from local.dynamodb import Written, narrow_transactions
from local.persistence import (
    STORE_FILE,
    LocalStore,
    Persistence,
    StoreError,
    cognito_state,
    restore_cognito,
)
from tests.unit.test_local_transactions import create_table

ACCOUNT = "123456789012"
REGION = "us-east-1"
COGNITO_WRITE = {"HTTP_X_AMZ_TARGET": "AWSCognitoIdentityProviderService.AdminDisableUser"}
COGNITO_READ = {"HTTP_X_AMZ_TARGET": "AWSCognitoIdentityProviderService.ListUsers"}


def _dynamodb() -> DynamoDBBackend:
    db = DynamoDBBackend(REGION, ACCOUNT)
    create_table(db, "audit", "subject", "at")
    narrow_transactions(db)
    return db


def _cognito() -> tuple[CognitoIdpBackend, str, str]:
    """A pool with an app client and a group, as ``local.aws.bootstrap_cognito`` makes."""
    cognito = CognitoIdpBackend(REGION, ACCOUNT)
    pool = cognito.create_user_pool("licensing-local", {})
    client = cognito.create_user_pool_client(pool.id, False, {"ClientName": "licensing-local"})
    cognito.create_group(pool.id, "license-admins", "admins", None, None)  # type: ignore[arg-type]
    return cognito, pool.id, client.id


def _items(db: DynamoDBBackend) -> list[dict[str, object]]:
    return [item.to_json()["Attributes"] for item in db.tables["audit"].all_items()]


def _item(subject: str, at: str, **extra: str) -> dict[str, dict[str, str]]:
    return {"subject": {"S": subject}, "at": {"S": at}, **{k: {"S": v} for k, v in extra.items()}}


def test_binary_values_are_kept_as_the_bytes_they_were(tmp_path: Path) -> None:
    """Status list chunks are binary attributes (``B``): moto holds them as bytes."""
    store = LocalStore.open(tmp_path)
    db = _dynamodb()
    saved = Persistence(store, db, CognitoIdpBackend(REGION, ACCOUNT))
    chunk = bytes(range(256)) * 4
    db.put_item("audit", {**_item("list", "0"), "bits": {"B": chunk}})
    saved.after_request({})
    store.close()
    fresh = _dynamodb()
    restored = Persistence(LocalStore.open(tmp_path), fresh, CognitoIdpBackend(REGION, ACCOUNT))
    assert restored.restore_items() == {"audit": 1}
    assert _items(fresh) == _items(db)
    assert _items(fresh)[0]["bits"] == {"B": chunk}


def test_what_requests_wrote_is_loaded_into_the_next_servers_tables(tmp_path: Path) -> None:
    store = LocalStore.open(tmp_path)
    db = _dynamodb()
    saved = Persistence(store, db, CognitoIdpBackend(REGION, ACCOUNT))
    db.put_item("audit", _item("lic", "1", action="created"))
    db.put_item("audit", _item("lic", "2", action="revoked"))
    saved.after_request({})
    db.update_item(
        "audit",
        {"subject": {"S": "lic"}, "at": {"S": "1"}},
        update_expression="SET note = :n",
        expression_attribute_names={},
        expression_attribute_values={":n": {"S": "updated"}},
    )
    db.delete_item("audit", {"subject": {"S": "lic"}, "at": {"S": "2"}})
    db.transact_write_items([{"Put": {"TableName": "audit", "Item": _item("cus", "3")}}])
    saved.after_request({})
    store.close()

    store = LocalStore.open(tmp_path)
    fresh = _dynamodb()
    counts = Persistence(store, fresh, CognitoIdpBackend(REGION, ACCOUNT)).restore_items()
    assert counts == {"audit": 2}
    assert (
        _items(fresh)
        == _items(db)
        == [
            _item("cus", "3"),
            _item("lic", "1", action="created", note="updated"),
        ]
    )
    store.close()


def test_a_cancelled_transaction_saves_nothing_new(tmp_path: Path) -> None:
    store = LocalStore.open(tmp_path)
    db = _dynamodb()
    saved = Persistence(store, db, CognitoIdpBackend(REGION, ACCOUNT))
    db.put_item("audit", _item("lic", "1"))
    saved.after_request({})
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        db.transact_write_items(
            [
                {"Put": {"TableName": "audit", "Item": _item("lic", "2")}},
                {
                    "ConditionCheck": {
                        "TableName": "audit",
                        "Key": _item("lic", "1"),
                        "ConditionExpression": "attribute_not_exists(subject)",
                    }
                },
            ]
        )
    saved.after_request({})
    assert [table for table, _ in store.items()] == ["audit"]
    store.close()


def test_one_server_per_data_directory(tmp_path: Path) -> None:
    first = LocalStore.open(tmp_path)
    with pytest.raises(StoreError, match="in use by another local server"):
        LocalStore.open(tmp_path)
    first.close()
    LocalStore.open(tmp_path).close()
    assert (tmp_path / STORE_FILE).stat().st_mode & 0o777 == 0o600


def test_fresh_forgets_everything(tmp_path: Path) -> None:
    store = LocalStore.open(tmp_path)
    store.save([Written("audit", "k", _item("lic", "1"))], {"cognito": {"users": []}})
    store.close()
    store = LocalStore.open(tmp_path, fresh=True)
    assert list(store.items()) == [] and store.document("cognito") is None
    store.close()


def test_a_damaged_store_is_named_not_loaded(tmp_path: Path) -> None:
    (tmp_path / STORE_FILE).write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match=r"damaged.*--fresh"):
        LocalStore.open(tmp_path)


def test_users_come_back_with_their_sub_password_status_and_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in HASHED_COGNITO_IDS.items():  # what bootstrap_cognito sets
        monkeypatch.setenv(name, value)
    cognito, pool_id, client_id = _cognito()
    cognito.admin_create_user(pool_id, "admin@example.com", "SUPPRESS", "Temp-0rary!x", [])
    cognito.admin_set_user_password(pool_id, "admin@example.com", "Sup3r-secret!", True)
    cognito.admin_add_user_to_group(pool_id, "license-admins", "admin@example.com")
    cognito.admin_create_user(
        pool_id, "gone@example.com", "SUPPRESS", "Temp-0rary!x", [{"Name": "email", "Value": "x"}]
    )
    cognito.admin_disable_user(pool_id, "gone@example.com")
    cognito.create_group(pool_id, "tenant-admins", "", None, 3)  # type: ignore[arg-type]
    cognito.admin_add_user_to_group(pool_id, "tenant-admins", "gone@example.com")
    before = {u.username: u for u in cognito.describe_user_pool(pool_id).users.values()}

    store = LocalStore.open(tmp_path)
    saved = Persistence(store, _dynamodb(), cognito)
    assert saved.restore_cognito(pool_id) == {}  # nothing stored yet
    saved.after_request(COGNITO_READ)
    assert store.document("cognito") is None  # a read saves nothing
    saved.after_request(COGNITO_WRITE)
    store.close()

    # The next server: the same pool and client ids, nothing in the pool but its group.
    again, same_pool, same_client = _cognito()
    assert (same_pool, same_client) == (pool_id, client_id)
    store = LocalStore.open(tmp_path)
    assert Persistence(store, _dynamodb(), again).restore_cognito(same_pool) == {"cognito users": 2}
    store.close()
    pool = again.describe_user_pool(same_pool)
    for name, user in pool.users.items():
        assert (user.id, user.password, user.enabled, user.attributes) == (
            before[name].id, before[name].password, before[name].enabled, before[name].attributes,
        )  # fmt: skip
    assert pool.users["admin@example.com"].status is UserStatus.CONFIRMED
    assert not pool.users["gone@example.com"].enabled
    assert pool.groups["tenant-admins"].precedence == 3
    assert {u.username for u in pool.groups["license-admins"].users} == {"admin@example.com"}
    assert {g.group_name for g in pool.users["gone@example.com"].groups} == {"tenant-admins"}
    # The restored admin signs in with its password and is the same subject.
    signed_in = again.admin_initiate_auth(
        same_pool,
        same_client,
        "ADMIN_USER_PASSWORD_AUTH",
        {"USERNAME": "admin@example.com", "PASSWORD": "Sup3r-secret!"},
    )
    assert "AuthenticationResult" in signed_in


def test_cognito_state_is_plain_json() -> None:
    cognito, pool_id, _ = _cognito()
    cognito.admin_create_user(pool_id, "a@example.com", "SUPPRESS", "Temp-0rary!x", [])
    state = cognito_state(cognito.describe_user_pool(pool_id))
    assert state["users"][0]["status"] == "FORCE_CHANGE_PASSWORD"
    other, other_pool, _ = _cognito()
    assert restore_cognito(other, other_pool, state) == 1
    assert other.describe_user_pool(other_pool).users["a@example.com"].status is (
        UserStatus.FORCE_CHANGE_PASSWORD
    )
