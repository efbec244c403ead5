"""Service accounts: client-credentials tokens, whose OAuth scopes map to what they may do."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from licensing_core.settings import get_settings, reset_settings

from local.aws import service_token, with_mfa
from tests.integration.conftest import CognitoPool, perpetual_key
from tests.support import Response, invoke

SERVICE_CLIENT = "svc1234567890abcdefghijklm"


@pytest.fixture
def service(aws: CognitoPool, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """A client-credentials token of the pool's machine app client (an accepted audience,
    as the stack configures it)."""
    monkeypatch.setenv("LICENSING_OIDC_AUDIENCES", f"{aws.client_id},{SERVICE_CLIENT}")
    reset_settings()

    def token(scope: str, **claims: object) -> str:
        return service_token(get_settings().oidc_issuer or "", SERVICE_CLIENT, scope, **claims)

    return token


def test_admin_scope_makes_a_platform_administrator(service: Callable[..., str]) -> None:
    token = service("licensing/admin")
    created = invoke("POST", "/products", body={"code": "Svc", "name": "Svc"}, token=token)
    assert created.status == 201, created.text
    assert invoke("GET", "/products", token=token).status == 200


def test_read_scope_only_reads(service: Callable[..., str], product: str) -> None:
    token = service("licensing/read")
    assert invoke("GET", f"/products/{product}", token=token).status == 200
    refused = invoke("POST", "/products", body={"code": "No", "name": "No"}, token=token)
    assert refused.status == 403 and refused.json["code"] == "READ_ONLY"


def test_a_token_naming_a_tenant_is_limited_to_it(
    service: Callable[..., str], admin: Callable[..., Response]
) -> None:
    mine = admin("POST", "/tenants", {"name": "Mine"}).json["tenantId"]
    other = admin("POST", "/tenants", {"name": "Other"}).json["tenantId"]
    token = service("licensing/admin", tenant=mine)
    assert invoke("GET", f"/tenants/{mine}", token=token).status == 200
    assert invoke("GET", f"/tenants/{other}", token=token).status == 404
    created = invoke(
        "POST", "/customers", body={"email": "m@example.com", "name": "M"}, token=token
    )
    assert created.status == 201 and created.json["tenantId"] == mine


@pytest.mark.parametrize(
    "scope", ["", "openid", "licensing/unknown", "aws.cognito.signin.user.admin"]
)
def test_a_service_token_without_our_scopes_may_do_nothing(
    service: Callable[..., str], scope: str
) -> None:
    answer = invoke("GET", "/products", token=service(scope))
    assert answer.status == 403, answer.text
    assert answer.json["code"] == "NOT_AN_ADMIN"


def test_a_client_that_is_not_an_audience_is_refused(service: Callable[..., str]) -> None:
    token = service_token(
        get_settings().oidc_issuer or "", "someoneelse0123456789abcd", "licensing/admin"
    )
    answer = invoke("GET", "/products", token=token)
    assert answer.status == 401 and "meant for another client" in answer.json["detail"]


def test_a_persons_token_gains_nothing_from_a_scope(aws: CognitoPool) -> None:
    """Only a service account's scopes count: a person's token needs a group."""
    token = with_mfa(aws.user_token("scoped@example.com"), scope="licensing/admin")
    answer = invoke("GET", "/products", token=token)
    assert answer.status == 403 and answer.json["code"] == "NOT_AN_ADMIN"


def test_step_up_actions_are_for_people(
    service: Callable[..., str], admin: Callable[..., Response], product: str, tiers: dict[str, str]
) -> None:
    customer = admin("POST", "/customers", {"email": "s@example.com", "name": "S"}).json
    key = perpetual_key(admin, product, tiers["pro"], customer["customerId"])
    token = service("licensing/admin")
    revoke = invoke(
        "POST", f"/license-keys/{key['licenseId']}/revoke", body={"reason": "x"}, token=token
    )
    assert revoke.status == 403 and revoke.json["code"] == "HUMAN_ONLY"
    assert admin("GET", f"/license-keys/{key['licenseId']}").json["status"] == "active"
    # Issuing (no step-up for this tier) is what service accounts are for.
    perpetual_key(admin, product, tiers["free"], customer["customerId"], token=token)


def test_self_service_claims_are_for_people(service: Callable[..., str]) -> None:
    answer = invoke("POST", "/user/claim-license", body={}, token=service("licensing/admin"))
    assert answer.status == 403 and answer.json["code"] == "HUMAN_ONLY"


def test_a_service_account_holds_licenses_like_a_person(
    service: Callable[..., str], admin: Callable[..., Response], product: str, tiers: dict[str, str]
) -> None:
    """An identity of kind ``service`` bound to the client's subject lists its licenses
    with its own token."""
    created = admin(
        "POST",
        "/customers",
        {
            "email": "robot@example.com",
            "name": "Robot",
            "kind": "service",
            "subject": SERVICE_CLIENT,
        },
    )
    assert created.status == 201, created.text
    key = perpetual_key(admin, product, tiers["pro"], created.json["customerId"])
    mine = invoke("GET", "/user/licenses", token=service("licensing/read"))
    assert mine.status == 200, mine.text
    assert [item["licenseId"] for item in mine.json["items"]] == [key["licenseId"]]
    valid = invoke("POST", "/license-keys/validate", body={"keyToken": key["keyToken"]})
    assert valid.json["valid"] is True
    counted = invoke(
        "POST",
        "/usage",
        body={
            "keyToken": key["keyToken"],
            "meter": "api_calls",
            "quantity": 3,
            "idempotencyKey": "u",
        },
    )
    assert counted.status == 200, counted.text
    own = invoke("GET", "/user/usage", token=service("licensing/read"))
    assert [(c["meter"], c["used"]) for c in own.json["items"]] == [("api_calls", 3)]


def test_a_caller_without_an_identity_has_no_usage(aws: CognitoPool) -> None:
    nobody = invoke("GET", "/user/usage", token=aws.user_token("nobody@example.com"))
    assert (nobody.status, nobody.json) == (200, {"items": []})
