"""The local server keeps its data across restarts (``<data-dir>/aws.sqlite3``), starts
empty with ``--fresh``, refuses a second server on its data directory, and stops
promptly on Ctrl-C however much it holds. Real processes, real HTTP."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.aws import dynamodb_client
from local.persistence import STORE_FILE
from tests.e2e.client import LocalServer, Reply, call, free_port
from tests.e2e.test_registration import register, set_password_and_sign_in, unique_email

pytestmark = pytest.mark.e2e

#: What the Ctrl-C test puts in the server: the items of this many API writes.
WRITES = 10_000
STOP_SECONDS = 5.0


def ok(reply: Reply, status: int = 200) -> Any:
    assert reply.status == status, reply
    return reply.body


def admin(server: LocalServer, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    return ok(server.request(method, path, token=server.admin_token, json_body=body), status)


@dataclass(frozen=True)
class Made:
    """What the first server made, over HTTP."""

    product: dict[str, Any]
    tier: dict[str, Any]
    customer: dict[str, Any]
    license: dict[str, Any]
    activation: dict[str, Any]
    admin_token: str
    user_token: str
    user_license: str


def _make_everything(server: LocalServer) -> Made:
    suffix = uuid.uuid4().hex[:8]
    product = admin(server, "POST", "/products", {"code": f"Keep.{suffix}", "name": "Kept"}, 201)
    pid = product["productId"]
    admin(server, "POST", f"/products/{pid}/features", {"key": "sso", "name": "SSO"}, 201)
    tier = admin(
        server,
        "POST",
        f"/products/{pid}/tiers",
        {
            "code": "kept",
            "name": "Kept",
            "monthlyPrice": 100,
            "annualPrice": 1000,
            "currency": "EUR",
            "billingPeriods": ["monthly"],
            "maxUsers": 2,
            "features": ["sso"],
        },
        201,
    )
    customer, license_, activation = _write_cycle(server, pid, tier["tierId"], "kept-machine")
    # A self-service user: a Cognito user the server invited (its own sub), with a license.
    email = unique_email("kept")
    assert register(server, email).status == 202
    user_token = set_password_and_sign_in(server, email)
    claimed = ok(server.request("POST", "/user/claim-license", token=user_token), 201)
    return Made(
        product,
        tier,
        customer,
        license_,
        activation,
        server.admin_token,
        user_token,
        claimed["licenseId"],
    )


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, Made]]:
    """A server stopped with Ctrl-C after making data, and started again on the same
    data directory and port (license keys name the server's URL as their issuer)."""
    data_dir = tmp_path_factory.mktemp("restart") / "data"
    port = str(free_port())
    first = LocalServer.start(data_dir, "--port", port)
    try:
        made = _make_everything(first)
    finally:
        assert first.stop() == 0, first.output()
    second = LocalServer.start(data_dir, "--port", port)
    yield second, made
    assert second.stop() == 0
    assert "Traceback" not in second.output(), second.output()


def test_a_restarted_server_has_its_catalog_customers_licenses_and_activations(
    restarted: tuple[LocalServer, Made],
) -> None:
    server, made = restarted
    pid = made.product["productId"]
    assert admin(server, "GET", f"/products/{pid}")["code"] == made.product["code"]
    tier = admin(server, "GET", f"/products/{pid}/tiers/{made.tier['tierId']}")
    assert (tier["code"], tier["maxUsers"], tier["resolved"]["features"]) == ("kept", 2, ["sso"])
    customer = admin(server, "GET", f"/customers/{made.customer['customerId']}")
    assert customer["email"] == made.customer["email"]
    license_id = made.license["licenseId"]
    assert admin(server, "GET", f"/license-keys/{license_id}")["status"] == "active"
    seats = admin(server, "GET", f"/license-keys/{license_id}/activations")
    assert seats["activeSeats"] == 1
    # The key and the machine's activation still work: same signing key, same issuer.
    valid = ok(
        server.request(
            "POST", "/license-keys/validate", json_body={"keyToken": made.license["keyToken"]}
        )
    )
    assert valid["valid"] is True, valid
    beat = server.request(
        "POST", "/license-keys/heartbeat", json_body={"clientId": made.activation["clientId"]}
    )
    assert beat.status == 200, beat
    assert "Restored" in server.output()


def test_tokens_and_users_outlive_the_restart(restarted: tuple[LocalServer, Made]) -> None:
    server, made = restarted
    # The pool and app client have the same ids, moto's key signs: old tokens verify.
    assert server.request("GET", "/products", token=made.admin_token).status == 200
    # The invited user is the same subject: its license is still its own.
    mine = ok(server.request("GET", "/user/licenses", token=made.user_token))
    assert [item["licenseId"] for item in mine["items"]] == [made.user_license]
    # The local accounts got new passwords, written to state.json: fresh tokens work.
    fresh = server.token("admin")
    assert server.request("GET", "/products", token=fresh).status == 200


def test_a_second_server_on_the_same_data_directory_is_refused(
    restarted: tuple[LocalServer, Made],
) -> None:
    server, _ = restarted
    with pytest.raises(RuntimeError, match="in use by another local server"):
        LocalServer.start(
            server.data_dir.parent / "other", "--port", "0", "--data-dir", str(server.data_dir)
        )
    assert call("GET", f"{server.base_url}/.well-known/jwks.json").status == 200


def test_fresh_starts_empty(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = LocalServer.start(data_dir, "--port", "0")
    try:
        product = admin(first, "POST", "/products", {"code": "Gone.Soon", "name": "Gone"}, 201)
    finally:
        assert first.stop() == 0
    fresh = LocalServer.start(data_dir, "--port", "0", "--fresh", "--no-seed")
    try:
        assert admin(fresh, "GET", "/products")["items"] == []
        assert admin(fresh, "GET", f"/products/{product['productId']}", status=404)["code"]
        assert "Restored" not in fresh.output()
    finally:
        assert fresh.stop() == 0


# --- Ctrl-C with a day's data ---------------------------------------------------------


def _item_counts(client: Any) -> dict[str, int]:
    """Items per table (moto counts them live)."""
    return {
        name: client.describe_table(TableName=name)["Table"]["ItemCount"]
        for name in client.list_tables()["TableNames"]
    }


def _write_cycle(
    server: LocalServer, product_id: str, tier_id: str, machine: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The writes a vendor's day is made of: a customer, its license key, an activation."""
    body = {"email": f"{machine}@example.com", "name": machine}
    customer = admin(server, "POST", "/customers", body, 201)
    body = {"productId": product_id, "tierId": tier_id, "customerId": customer["customerId"]}
    key = admin(server, "POST", "/license-keys", {**body, "perpetual": True}, 201)
    body = {"keyToken": key["keyToken"], "machineId": machine}
    activation = ok(server.request("POST", "/license-activations/activate", json_body=body), 201)
    return customer, key, activation


def _clones(client: Any, table: str, count: int) -> Iterator[dict[str, Any]]:
    """``count`` copies of an item of ``table`` under new keys."""
    template = client.scan(TableName=table, Limit=1)["Items"][0]
    keys = [
        k["AttributeName"] for k in client.describe_table(TableName=table)["Table"]["KeySchema"]
    ]
    for n in range(count):
        yield {**template, **{key: {"S": f"{template[key]['S']}.{n}"} for key in keys}}


def test_ctrl_c_with_ten_thousand_writes_of_data_returns_promptly(tmp_path: Path) -> None:
    server = LocalServer.start(tmp_path / "data", "--port", "0", "--log-level", "WARNING")
    try:
        client = dynamodb_client(server.state()["aws_endpoint"])
        # Which items, and how many, the three writes of a cycle leave in each table...
        before = _item_counts(client)
        demo = next(
            p for p in admin(server, "GET", "/products")["items"] if p["code"] == "Rdn.Identity"
        )
        tier = admin(server, "GET", f"/products/{demo['productId']}/tiers")["items"][0]
        _write_cycle(server, demo["productId"], tier["tierId"], "calibration")
        per_write = {
            table: (count - before.get(table, 0)) / 3
            for table, count in _item_counts(client).items()
            if count > before.get(table, 0)
        }
        # ... and WRITES writes' worth of them, in bulk through moto's DynamoDB API (each
        # batch is saved to the data directory like any request).
        puts = [
            (table, {"PutRequest": {"Item": item}})
            for table, share in per_write.items()
            for item in _clones(client, table, round(share * WRITES))
        ]
        assert len(puts) >= 2 * WRITES, per_write
        for start in range(0, len(puts), 25):
            batch: dict[str, list[Any]] = {}
            for table, put in puts[start : start + 25]:
                batch.setdefault(table, []).append(put)
            assert not client.batch_write_item(RequestItems=batch).get("UnprocessedItems")
        held = sum(_item_counts(client).values())
        assert held >= len(puts)
    except BaseException:
        server.kill()
        raise
    started = time.monotonic()
    assert server.stop() == 0, server.output()
    assert time.monotonic() - started < STOP_SECONDS
    with closing(sqlite3.connect(server.data_dir / STORE_FILE)) as store:  # every batch reached it
        assert store.execute("SELECT COUNT(*) FROM items").fetchone()[0] == held
