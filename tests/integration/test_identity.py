"""Identity-first licensing: deactivation stops everything at once; usage is metered
per identity against the tier's quotas."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from licensing_core.domain.ids import set_clock
from licensing_core.services.usage import period_of
from licensing_core.store.models import ActivationRecord, LicenseRecord, UsageRecord

from tests.integration.conftest import perpetual_key
from tests.support import Response, invoke

Admin = Callable[..., Response]


@pytest.fixture
def holder(admin: Admin, product: str, tiers: dict[str, str]) -> dict[str, Any]:
    customer = admin("POST", "/customers", {"email": "id@example.com", "name": "Id"}).json
    key = perpetual_key(admin, product, tiers["pro"], customer["customerId"])
    activated = invoke(
        "POST",
        "/license-activations/activate",
        body={"keyToken": key["keyToken"], "machineId": "m1"},
    ).json
    return {
        "customer": customer["customerId"],
        "license": key["licenseId"],
        "key": key["keyToken"],
        "client": activated["clientId"],
    }


def usage(holder: dict[str, Any], quantity: int = 1, key: str = "k1", **extra: Any) -> Response:
    return invoke(
        "POST",
        "/usage",
        body={
            "clientId": holder["client"],
            "meter": "api_calls",
            "quantity": quantity,
            "idempotencyKey": key,
            **extra,
        },
    )


def test_deactivation_stops_validation_heartbeat_and_usage_at_once_and_frees_seats(
    admin: Admin, holder: dict[str, Any], weak_admin_token: str
) -> None:
    path = f"/customers/{holder['customer']}"
    challenged = invoke("POST", f"{path}/deactivate", body={}, token=weak_admin_token)
    assert challenged.json["code"] == "STEP_UP_REQUIRED"
    done = admin("POST", f"{path}/deactivate", {"reason": "left the company"})
    assert done.status == 200 and done.json["status"] == "deactivated"
    validate = invoke("POST", "/license-keys/validate", body={"keyToken": holder["key"]}).json
    assert (validate["valid"], validate["code"]) == (False, "IDENTITY_DEACTIVATED")
    assert (
        invoke("POST", "/license-keys/heartbeat", body={"clientId": holder["client"]}).status == 404
    )
    assert int(LicenseRecord.get(holder["license"]).active_seats) == 0
    assert ActivationRecord.count(holder["license"]) == 0
    refused = invoke(
        "POST",
        "/usage",
        body={
            "keyToken": holder["key"],
            "meter": "api_calls",
            "quantity": 1,
            "idempotencyKey": "x",
        },
    )
    assert (refused.status, refused.json["code"]) == (403, "IDENTITY_DEACTIVATED")
    again = admin("POST", f"{path}/deactivate", {})
    assert again.json["status"] == "deactivated"  # idempotent

    assert admin("POST", f"{path}/reactivate", {}).json["status"] == "active"
    assert invoke("POST", "/license-keys/validate", body={"keyToken": holder["key"]}).json["valid"]
    reactivated = invoke(
        "POST", "/license-activations/activate", body={"keyToken": holder["key"], "machineId": "m1"}
    )
    assert reactivated.status == 201


def test_usage_counts_until_the_quota_and_says_what_remains(holder: dict[str, Any]) -> None:
    first = usage(holder, 40_000, "a")
    assert first.status == 200, first.text
    assert (first.json["used"], first.json["limit"], first.json["remaining"]) == (
        40_000,
        100_000,
        60_000,
    )
    assert usage(holder, 60_000, "b").json["remaining"] == 0
    over = usage(holder, 1, "c")
    assert (over.status, over.json["code"], over.json["remaining"]) == (429, "QUOTA_EXCEEDED", 0)
    by_key = invoke(
        "POST",
        "/usage",
        body={
            "keyToken": holder["key"],
            "meter": "api_calls",
            "quantity": 1,
            "idempotencyKey": "d",
        },
    )
    assert by_key.status == 429


def test_a_repeated_idempotency_key_counts_once_and_returns_the_first_result(
    holder: dict[str, Any],
) -> None:
    first = usage(holder, 5, "same").json
    usage(holder, 7, "other")
    replay = usage(holder, 5, "same").json
    assert (replay["used"], replay["replayed"], first["replayed"]) == (5, True, False)
    assert usage(holder, 1, "third").json["used"] == 13


def test_periods_roll_over_by_key(holder: dict[str, Any]) -> None:
    set_clock(lambda: datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    december = usage(holder, 100_000, "dec").json
    assert december["periodEndsAt"].startswith("2027-01-01")
    set_clock(lambda: datetime(2027, 1, 1, 0, 1, tzinfo=UTC))
    assert usage(holder, 10, "jan").json["used"] == 10
    assert period_of("day", datetime(2026, 2, 28, 12, tzinfo=UTC)) == (
        "2026-02-28",
        datetime(2026, 3, 1, tzinfo=UTC),
    )


def test_admins_see_an_identitys_usage(admin: Admin, holder: dict[str, Any]) -> None:
    usage(holder, 3, "a")
    listed = admin("GET", f"/customers/{holder['customer']}/usage").json["items"]
    assert [(c["meter"], c["used"], c["limit"]) for c in listed] == [("api_calls", 3, 100_000)]
    assert admin("GET", "/customers/cus_missing/usage").status == 404


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"quantity": 0}, 422, "VALIDATION_FAILED"),
        ({"quantity": -5}, 422, "VALIDATION_FAILED"),
        ({"quantity": 10**12}, 422, "VALIDATION_FAILED"),
        ({"quantity": 1.5}, 422, "VALIDATION_FAILED"),
        ({"meter": "teleports"}, 422, "UNKNOWN_METER"),
        ({"quantity": 100_001}, 429, "QUOTA_EXCEEDED"),  # more than the quota, at once
        ({"used": 0}, 422, "VALIDATION_FAILED"),
        ({"tenantId": "tnt_x"}, 422, "VALIDATION_FAILED"),
        ({"keyToken": "x.y.z"}, 422, "VALIDATION_FAILED"),  # both credentials
        ({"clientId": "lic_nope." + "A" * 32}, 404, "UNKNOWN_CLIENT"),
    ],
)
def test_bad_usage_reports_count_nothing(
    holder: dict[str, Any], overrides: dict[str, Any], status: int, code: str
) -> None:
    body = {
        "clientId": holder["client"],
        "meter": "api_calls",
        "quantity": 1,
        "idempotencyKey": "bad",
        **overrides,
    }
    response = invoke("POST", "/usage", body=body)
    assert (response.status, response.json["code"]) == (status, code), response.text
    assert UsageRecord.count() == 0


def test_deactivation_disables_the_account_in_the_identity_provider(
    admin: Admin, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from licensing_core.settings import reset_settings

    monkeypatch.setenv("LICENSING_COGNITO_USER_POOL_ID", aws.pool_id)
    reset_settings()
    created = aws.client.admin_create_user(
        UserPoolId=aws.pool_id, Username="gone@example.com", MessageAction="SUPPRESS"
    )
    subject = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    customer = admin(
        "POST", "/customers", {"email": "gone@example.com", "name": "Gone", "subject": subject}
    ).json

    def enabled() -> bool:
        user = aws.client.admin_get_user(UserPoolId=aws.pool_id, Username="gone@example.com")
        return bool(user["Enabled"])

    admin("POST", f"/customers/{customer['customerId']}/deactivate", {})
    assert not enabled()
    admin("POST", f"/customers/{customer['customerId']}/reactivate", {})
    assert enabled()


def test_identity_metadata_narrows_its_licenses(
    admin: Admin, product: str, tiers: dict[str, str]
) -> None:
    """``region`` limits where the license may be used; ``feature.<key>: false``
    withholds a feature of the tier; both are in every token, kept at issue."""
    customer = admin(
        "POST",
        "/customers",
        {"email": "eu@example.com", "name": "Eu",
         "metadata": {"region": "eu", "feature.sso": False, "feature.passkeys": True}},
    ).json  # fmt: skip
    key = perpetual_key(admin, product, tiers["pro"], customer["customerId"])
    valid = invoke("POST", "/license-keys/validate", body={"keyToken": key["keyToken"]}).json
    assert valid["valid"] is True and valid["claims"]["region"] == "eu"
    assert "sso" not in valid["claims"]["features"] and "passkeys" in valid["claims"]["features"]
    here = invoke(
        "POST", "/license-keys/validate", body={"keyToken": key["keyToken"], "region": "eu"}
    )
    assert here.json["valid"] is True
    elsewhere = invoke(
        "POST", "/license-keys/validate", body={"keyToken": key["keyToken"], "region": "us-east-1"}
    ).json
    assert (elsewhere["valid"], elsewhere["code"]) == (False, "REGION_NOT_ALLOWED")
    refused = invoke(
        "POST",
        "/license-activations/activate",
        body={"keyToken": key["keyToken"], "machineId": "m-us", "region": "us-east-1"},
    )
    assert (refused.status, refused.json["code"]) == (403, "REGION_NOT_ALLOWED")
    activated = invoke(
        "POST",
        "/license-activations/activate",
        body={"keyToken": key["keyToken"], "machineId": "m-eu", "region": "eu"},
    )
    assert activated.status == 201, activated.text
    beat = invoke("POST", "/license-keys/heartbeat", body={"clientId": activated.json["clientId"]})
    assert beat.status == 200, beat.text
    audit = admin("POST", f"/license-keys/{key['licenseId']}/audit", {"token": key["keyToken"]})
    assert audit.json["status"] == "consistent", audit.text
