"""Tenants' provisioning policies (through POST /customers and the identity provider's
sign-up trigger), the licenses serving tenants (``maxTenants``) and the tenant summary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from licensing_core.store.models import CustomerRecord, LicenseRecord

from tests.integration.conftest import CognitoPool, perpetual_key, tier_body
from tests.integration.test_tenancy import snapshot, tenant_admin
from tests.support import Response, invoke, load_handler

pytestmark = pytest.mark.usefixtures("aws")


def policy(product: str, tier: str, days: int | None = None) -> dict[str, Any]:
    return {"productId": product, "tierId": tier, **({"days": days} if days else {})}


@pytest.fixture
def provisioned_tenant(admin: Callable[..., Response], product: str, tiers: dict[str, str]) -> str:
    created = admin(
        "POST", "/tenants", {"name": "Acme", "provisioning": policy(product, tiers["pro"], 30)}
    )
    assert created.status == 201, created.text
    assert created.json["provisioning"] == {
        "productId": product,
        "tierId": tiers["pro"],
        "days": 30,
    }
    tenant_id: str = created.json["tenantId"]
    return tenant_id


def test_an_identity_created_in_a_tenant_with_a_policy_gets_its_license(
    admin: Callable[..., Response], provisioned_tenant: str
) -> None:
    created = admin(
        "POST",
        "/customers",
        {"email": "p@example.com", "name": "P", "tenantId": provisioned_tenant},
    )
    assert created.status == 201, created.text
    key = created.json["provisionedLicense"]
    expires = datetime.fromisoformat(key["expiresAt"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)
    valid = invoke("POST", "/license-keys/validate", body={"keyToken": key["keyToken"]})
    assert valid.json["valid"] is True, valid.text
    assert valid.json["claims"]["tenant"] == provisioned_tenant
    assert valid.json["claims"]["customer"] == created.json["customerId"]
    listed = admin("GET", f"/customers/{created.json['customerId']}/license-keys")
    assert [item["licenseId"] for item in listed.json["items"]] == [key["licenseId"]]


def test_a_tenant_admin_provisions_too(aws: CognitoPool, provisioned_tenant: str) -> None:
    token = tenant_admin(aws, provisioned_tenant)
    created = invoke(
        "POST", "/customers", body={"email": "q@example.com", "name": "Q"}, token=token
    )
    assert created.status == 201, created.text
    assert created.json["provisionedLicense"]["licenseId"].startswith("lic")


def test_without_a_policy_nothing_is_issued(admin: Callable[..., Response]) -> None:
    created = admin("POST", "/customers", {"email": "n@example.com", "name": "N"})
    assert created.status == 201 and created.json["provisionedLicense"] is None
    assert list(LicenseRecord.scan()) == []


@pytest.mark.parametrize(
    ("make_policy", "code"),
    [
        (lambda product, tiers: policy(product, "tier_missing"), "TIER_NOT_FOUND"),
        (lambda product, tiers: policy("prd_missing", tiers["pro"]), "PRODUCT_NOT_FOUND"),
        (lambda product, tiers: {**policy(product, tiers["pro"]), "days": 0}, "VALIDATION_FAILED"),
        (
            lambda product, tiers: {**policy(product, tiers["pro"]), "days": 10**6},
            "VALIDATION_FAILED",
        ),
        (lambda product, tiers: {**policy(product, tiers["pro"]), "extra": 1}, "VALIDATION_FAILED"),
        (lambda product, tiers: policy(product, tiers["sensitive"]), "TIER_NOT_PROVISIONABLE"),
    ],
)
def test_a_bad_policy_is_refused_and_nothing_is_written(
    admin: Callable[..., Response],
    product: str,
    tiers: dict[str, str],
    make_policy: Callable[[str, dict[str, str]], dict[str, Any]],
    code: str,
) -> None:
    sensitive = admin(
        "POST", f"/products/{product}/tiers", tier_body("vip", sensitive=True, maxUsers=2)
    )
    assert sensitive.status == 201, sensitive.text
    all_tiers = {**tiers, "sensitive": sensitive.json["tierId"]}
    before = snapshot()
    answer = admin(
        "POST", "/tenants", {"name": "T", "provisioning": make_policy(product, all_tiers)}
    )
    assert answer.status == 422, answer.text
    assert answer.json["code"] == code
    assert snapshot() == before


def test_mass_assigned_fields_are_refused(admin: Callable[..., Response]) -> None:
    before = snapshot()
    for path, body in (
        ("/customers", {"email": "m@example.com", "name": "M", "status": "active", "used": 0}),
        ("/tenants", {"name": "T", "tenantId": "tnt_mine"}),
        ("/tenants", {"name": "T", "tenantsServed": 0}),
    ):
        answer = admin("POST", path, body)
        assert answer.status == 422 and answer.json["code"] == "VALIDATION_FAILED", answer.text
    assert snapshot() == before


# The identity provider's sign-up (Cognito post-confirmation trigger)


def confirmed(
    attributes: dict[str, str], source: str = "PostConfirmation_ConfirmSignUp"
) -> dict[str, Any]:
    return {
        "version": "1",
        "triggerSource": source,
        "region": "us-east-1",
        "userPoolId": "us-east-1_pool",
        "userName": attributes.get("sub", "user"),
        "callerContext": {"awsSdkVersion": "1", "clientId": "client"},
        "request": {"userAttributes": attributes},
        "response": {},
    }


def sign_up(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = load_handler("provision_identity").handler(event, None)
    return result


def test_signing_up_in_a_tenant_with_a_policy_provisions_the_license(
    provisioned_tenant: str,
) -> None:
    event = confirmed(
        {
            "sub": "sub-1",
            "email": "New.User@Example.com",
            "email_verified": "true",
            "custom:tenant": provisioned_tenant,
        }
    )
    assert sign_up(event) == event  # Cognito needs its event back
    (customer,) = CustomerRecord.scan()
    assert (customer.email, customer.subject, customer.tenant_id) == (
        "New.User@Example.com",  # as the account has it; unique by its key
        "sub-1",
        provisioned_tenant,
    )
    (license,) = LicenseRecord.scan()
    assert license.customer_id == customer.customer_id and license.status == "active"
    # Cognito may run the trigger again: nothing more is created.
    sign_up(event)
    assert len(list(CustomerRecord.scan())) == 1 and len(list(LicenseRecord.scan())) == 1


def test_signing_up_binds_an_identity_created_beforehand(
    admin: Callable[..., Response], provisioned_tenant: str
) -> None:
    created = admin(
        "POST",
        "/customers",
        {"email": "known@example.com", "name": "K", "tenantId": provisioned_tenant},
    ).json
    sign_up(
        confirmed(
            {"sub": "sub-2", "email": "known@example.com", "custom:tenant": provisioned_tenant}
        )
    )
    (customer,) = CustomerRecord.scan()
    assert customer.customer_id == created["customerId"] and customer.subject == "sub-2"
    assert len(list(LicenseRecord.scan())) == 1  # the one issued at creation


@pytest.mark.parametrize(
    "event",
    [
        confirmed(
            {"sub": "s", "email": "a@example.com"}, source="PostConfirmation_ConfirmForgotPassword"
        ),
        confirmed({"sub": "s", "email": "a@example.com", "custom:tenant": "tnt_missing"}),
        confirmed({"sub": "s"}),
        confirmed({"email": "a@example.com"}),
        confirmed({"sub": "s", "email": "not an email"}),
        confirmed({"sub": "s", "email": "a@example.com", "custom:tenant": "../etc"}),
    ],
)
def test_a_sign_up_that_cannot_be_provisioned_writes_nothing(event: dict[str, Any]) -> None:
    before = snapshot()
    assert sign_up(event) == event
    assert snapshot() == before


def test_signing_up_without_a_tenant_lands_in_the_default_one() -> None:
    sign_up(confirmed({"sub": "s3", "email": "solo@example.com"}))
    (customer,) = CustomerRecord.scan()
    assert customer.tenant_id == "default" and customer.metadata == {"source": "sign-up"}
    assert list(LicenseRecord.scan()) == []


# Licenses serving tenants: the tier's maxTenants


@pytest.fixture
def serving_license(admin: Callable[..., Response], product: str) -> str:
    tier = admin(
        "POST", f"/products/{product}/tiers", tier_body("msp", maxUsers=1, maxTenants=2)
    ).json["tierId"]
    customer = admin("POST", "/customers", {"email": "msp@example.com", "name": "MSP"}).json
    license_id: str = perpetual_key(admin, product, tier, customer["customerId"])["licenseId"]
    return license_id


def test_a_license_serves_at_most_max_tenants(
    admin: Callable[..., Response], serving_license: str
) -> None:
    for name in ("one", "two"):
        served = admin("POST", "/tenants", {"name": name, "licenseId": serving_license})
        assert served.status == 201, served.text
        assert served.json["licenseId"] == serving_license
    before = snapshot()
    refused = admin("POST", "/tenants", {"name": "three", "licenseId": serving_license})
    assert refused.status == 409, refused.text
    assert refused.json["code"] == "TENANT_LIMIT_REACHED" and refused.json["maxTenants"] == 2
    assert snapshot() == before


def test_a_revoked_license_serves_no_new_tenant(
    admin: Callable[..., Response], serving_license: str
) -> None:
    assert admin("POST", f"/license-keys/{serving_license}/revoke", {"reason": "x"}).status == 200
    refused = admin("POST", "/tenants", {"name": "late", "licenseId": serving_license})
    assert refused.status == 409 and refused.json["code"] == "LICENSE_NOT_ACTIVE"
    missing = admin("POST", "/tenants", {"name": "late", "licenseId": "lic_missing"})
    assert missing.status == 422 and missing.json["code"] == "LICENSE_NOT_FOUND"


# The tenant summary


def test_the_summary_counts_identities_licenses_and_usage(
    aws: CognitoPool, admin: Callable[..., Response], provisioned_tenant: str
) -> None:
    keys = []
    for name, kind in (("h1", "human"), ("h2", "human"), ("s1", "service")):
        created = admin(
            "POST",
            "/customers",
            {
                "email": f"{name}@example.com",
                "name": name,
                "kind": kind,
                "tenantId": provisioned_tenant,
            },
        ).json
        keys.append((created["customerId"], created["provisionedLicense"]))
    admin("POST", f"/customers/{keys[1][0]}/deactivate", {"reason": "left"})
    admin("POST", f"/license-keys/{keys[2][1]['licenseId']}/suspend", {"reason": "unpaid"})
    for quantity, key in ((5, "u1"), (7, "u2")):
        used = invoke(
            "POST",
            "/usage",
            body={
                "keyToken": keys[0][1]["keyToken"],
                "meter": "api_calls",
                "quantity": quantity,
                "idempotencyKey": key,
            },
        )
        assert used.status == 200, used.text
    summary = invoke(
        "GET", f"/tenants/{provisioned_tenant}/summary", token=tenant_admin(aws, provisioned_tenant)
    )
    assert summary.status == 200, summary.text
    body = summary.json
    assert body["identities"] == {"active": 2, "deactivated": 1, "humans": 2, "services": 1}
    assert body["licenses"] == {"active": 2, "suspended": 1, "revoked": 0, "expired": 0}
    month = datetime.now(UTC).strftime("%Y-%m")
    assert body["usage"] == [{"meter": "api_calls", "period": month, "used": 12, "counters": 1}]
    missing = admin("GET", "/tenants/tnt_missing/summary")
    assert (missing.status, missing.json["code"]) == (404, "TENANT_NOT_FOUND")
    empty = admin("GET", "/tenants/default/summary")
    assert empty.status == 200 and empty.json["identities"]["active"] == 0
