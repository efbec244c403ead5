"""Step-up at the door: high-value admin actions demand a strong, recent login."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from licensing_core.store.models import AuditRecord, LicenseRecord, TierRecord

from local.aws import with_mfa
from tests.integration.conftest import perpetual_key
from tests.support import Response, invoke

Admin = Callable[..., Response]


@pytest.fixture
def license_id(admin: Admin, product: str, tiers: dict[str, str]) -> str:
    customer = admin("POST", "/customers", {"email": "s@example.com", "name": "S"}).json
    return str(perpetual_key(admin, product, tiers["pro"], customer["customerId"])["licenseId"])


def test_a_plain_login_is_challenged_and_nothing_is_written(
    license_id: str, weak_admin_token: str
) -> None:
    before = AuditRecord.count()
    response = invoke(
        "POST", f"/license-keys/{license_id}/revoke", body={"reason": "x"}, token=weak_admin_token
    )
    assert (response.status, response.json["code"]) == (401, "STEP_UP_REQUIRED")
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="this action (license.revoke) needs a stronger authentication (mfa)", '
        'acr_values="mfa", max_age=900'
    )
    assert LicenseRecord.get(license_id).status == "active" and AuditRecord.count() == before


def test_a_stale_mfa_login_is_challenged_a_fresh_one_passes(
    license_id: str, weak_admin_token: str
) -> None:
    stale = with_mfa(weak_admin_token, auth_time=int(time.time()) - 901)
    path = f"/license-keys/{license_id}/regenerate"
    refused = invoke("POST", path, body={}, token=stale)
    assert refused.status == 401 and "max_age=900" in refused.headers["www-authenticate"]
    assert invoke("POST", path, body={}, token=with_mfa(weak_admin_token)).status == 200


def test_an_invalid_token_never_gets_the_step_up_challenge(license_id: str) -> None:
    response = invoke(
        "POST", f"/license-keys/{license_id}/revoke", body={"reason": "x"}, token="not-a-token"
    )
    assert response.json["code"] == "INVALID_TOKEN"
    assert "insufficient_user_authentication" not in response.headers["www-authenticate"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_everyday_actions_are_never_challenged(
    license_id: str, weak_admin_token: str, product: str
) -> None:
    for method, path, body in [
        ("GET", f"/license-keys/{license_id}", None),
        ("GET", "/products", None),
        ("GET", f"/products/{product}/tiers", None),
        ("POST", f"/license-keys/{license_id}/audit", {}),
        ("POST", f"/license-keys/{license_id}/suspend", {"reason": "x"}),
    ]:
        assert invoke(method, path, body=body, token=weak_admin_token).status == 200, path


def test_tier_changes_and_sensitive_issuance_need_step_up(
    admin: Admin, product: str, tiers: dict[str, str], weak_admin_token: str
) -> None:
    path = f"/products/{product}/tiers/{tiers['enterprise']}"
    refused = invoke("PATCH", path, body={"maxUsers": 500}, token=weak_admin_token)
    assert refused.json["code"] == "STEP_UP_REQUIRED"
    assert int(TierRecord.get(product, tiers["enterprise"]).max_users) == 50
    assert admin("PATCH", path, {"sensitive": True}).status == 200
    customer = admin("POST", "/customers", {"email": "v@example.com", "name": "V"}).json
    body = {
        "productId": product,
        "tierId": tiers["enterprise"],
        "customerId": customer["customerId"],
        "perpetual": True,
    }
    weak = invoke("POST", "/license-keys", body=body, token=weak_admin_token)
    assert (weak.status, weak.json["code"]) == (401, "STEP_UP_REQUIRED")
    assert LicenseRecord.count() == 0
    assert admin("POST", "/license-keys", body).status == 201
    body["tierId"] = tiers["pro"]  # not sensitive: no step-up
    assert invoke("POST", "/license-keys", body=body, token=weak_admin_token).status == 201


def test_a_tier_step_up_change_reaches_the_next_heartbeat_and_audit_shows_drift(
    admin: Admin, license_id: str, product: str, tiers: dict[str, str]
) -> None:
    import jwt as pyjwt

    key = admin("GET", f"/license-keys/{license_id}").json
    token = admin("POST", f"/license-keys/{license_id}/regenerate", {}).json["keyToken"]
    client_id = invoke(
        "POST", "/license-activations/activate", body={"keyToken": token, "machineId": "m"}
    ).json["clientId"]
    admin(
        "PATCH",
        f"/products/{product}/tiers/{tiers['pro']}",
        {"stepUp": {"passkeys": {"acr": "phr", "maxAge": 60}}},
    )
    beat = invoke("POST", "/license-keys/heartbeat", body={"clientId": client_id}).json
    claims = pyjwt.decode(beat["token"], options={"verify_signature": False})
    assert claims["stepUp"] == {"passkeys": {"acr": "phr", "maxAge": 60}}
    drift = admin("POST", f"/license-keys/{key['licenseId']}/audit").json
    assert drift["differences"] == [
        {"claim": "stepUp", "inToken": {}, "expected": {"passkeys": {"acr": "phr", "maxAge": 60}}}
    ]
