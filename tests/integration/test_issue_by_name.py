"""POST /license-keys with what people know: a product's and a tier's code where their
ids go, and ``customerEmail`` instead of ``customerId`` (the identity of that email in the
tenant, created with the license, in its transaction, when there is none)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from licensing_core import outbox, schemas
from licensing_core.services import catalog, customers, licenses
from licensing_core.store import catalog as catalog_store
from licensing_core.store import identities as identity_store
from licensing_core.store.models import AuditRecord, CustomerRecord, LicenseRecord, UniqueRecord

from tests.integration.conftest import CognitoPool, tier_body
from tests.integration.test_tenancy import snapshot, tenant_admin
from tests.support import Response, full_width, invoke

Admin = Callable[..., Response]


def issue_body(**fields: Any) -> dict[str, Any]:
    return {"productId": "Rdn.Identity", "tierId": "pro", "perpetual": True, **fields}


def claims_of(key_token: str) -> dict[str, Any]:
    return invoke("POST", "/license-keys/validate", body={"keyToken": key_token}).json["claims"]


def actions_of(subject_id: str) -> list[str]:
    return [record.action for record in AuditRecord.query(subject_id)]


def refused(answer: Response, status: int, code: str) -> None:
    assert (answer.status, answer.json["code"]) == (status, code), answer.text


# --- products and tiers by code ------------------------------------------------------


def test_codes_in_any_case_name_the_product_and_tier(
    admin: Admin, product: str, tiers: dict[str, str]
) -> None:
    ada = admin("POST", "/customers", {"email": "ada@example.com", "name": "Ada"}).json
    for product_ref, tier_ref in (("Rdn.Identity", "pro"), ("RDN.identity", "Pro"),
                                  (product, tiers["pro"]), ("rdn.identity", tiers["pro"])):  # fmt: skip
        issued = admin(
            "POST",
            "/license-keys",
            {"productId": product_ref, "tierId": tier_ref, "customerId": ada["customerId"],
             "perpetual": True},
        )  # fmt: skip
        assert issued.status == 201, (product_ref, tier_ref, issued.text)
        assert issued.json["customerId"] == ada["customerId"]
        assert issued.json["customerCreated"] is False
        record = LicenseRecord.get(issued.json["licenseId"])
        assert (record.product_id, record.tier_id) == (product, tiers["pro"])
        claims = claims_of(issued.json["keyToken"])
        assert (claims["aud"], claims["tier"]) == ("Rdn.Identity", "pro")


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"productId": "Acme.Studio"}, "PRODUCT_NOT_FOUND", "productId"),
        ({"productId": "prd_0123456789abcdef01234567"}, "PRODUCT_NOT_FOUND", "productId"),
        ({"tierId": "gold"}, "TIER_NOT_FOUND", "tierId"),
        ({"tierId": "tier_0123456789abcdef01234567"}, "TIER_NOT_FOUND", "tierId"),
        ({"customerEmail": "bad@@example.com"}, "VALIDATION_FAILED", None),
    ],
)
def test_names_that_name_nothing_are_422_and_write_nothing(
    admin: Admin, tiers: dict[str, str], fields: dict[str, Any], code: str, field: str | None
) -> None:
    before = snapshot()
    answer = admin("POST", "/license-keys", issue_body(**{"customerEmail": "new@e.com", **fields}))
    refused(answer, 422, code)
    assert answer.json.get("field") == field
    assert snapshot() == before


def test_a_tier_code_of_another_product_names_nothing(
    admin: Admin, product: str, tiers: dict[str, str]
) -> None:
    other = admin("POST", "/products", {"code": "Other", "name": "Other"}).json["productId"]
    made = admin("POST", f"/products/{other}/tiers", tier_body("gold", monthlyPrice=100))
    assert made.status == 201, made.text
    before = snapshot()
    for tier in ("gold", made.json["tierId"]):
        refused(admin("POST", "/license-keys", issue_body(tierId=tier, customerEmail="x@e.com")),
                422, "TIER_NOT_FOUND")  # fmt: skip
    assert snapshot() == before


@pytest.mark.parametrize("code", ["prd_x", "PRD_abc", "tier_pro", "Tier_Pro"])
def test_a_new_code_shaped_like_an_id_is_refused(
    admin: Admin, product: str, tiers: dict[str, str], code: str
) -> None:
    before = snapshot()
    refused(admin("POST", "/products", {"code": code, "name": "X"}), 422, "VALIDATION_FAILED")
    made = admin("POST", f"/products/{product}/tiers", tier_body(code))
    refused(made, 422, "VALIDATION_FAILED")
    assert "ids do" in made.json["errors"][0]["message"]
    assert snapshot() == before
    for fine in ("prd-x", "tiers_pro", "prdx"):  # only the prefix with its underscore is taken
        assert admin("POST", f"/products/{product}/tiers", tier_body(f"{fine}{code}")).status == 201


def test_an_id_shaped_reference_is_only_ever_an_id(
    admin: Admin, product: str, tiers: dict[str, str]
) -> None:
    """A product stored with an id-shaped code before codes were checked is never found by
    that code: the reference is read as an id, so no reference means two things."""
    legacy = catalog.create_product(
        schemas.ProductCreate.model_construct(code="prd_legacy", name="L")
    )
    assert catalog_store.find_product_id("prd_legacy") == legacy.product_id
    before = snapshot()
    answer = admin(
        "POST", "/license-keys", issue_body(productId="prd_legacy", customerEmail="a@e.com")
    )
    refused(answer, 422, "PRODUCT_NOT_FOUND")
    refused(invoke("GET", "/products/prd_legacy/pricing"), 404, "PRODUCT_NOT_FOUND")
    assert invoke("GET", f"/products/{legacy.product_id}/pricing").status == 200
    assert snapshot() == before


# --- the identity by email -------------------------------------------------------------


def test_an_email_finds_its_identity_in_any_of_its_forms(
    admin: Admin, tiers: dict[str, str]
) -> None:
    ada = admin("POST", "/customers", {"email": "Ada@Example.com", "name": "Ada"}).json
    for form in ("ada@example.com", " ADA@EXAMPLE.COM ", full_width("ada@example.com")):
        issued = admin("POST", "/license-keys", issue_body(customerEmail=form))
        assert issued.status == 201, (form, issued.text)
        assert issued.json["customerId"] == ada["customerId"]
        assert issued.json["customerCreated"] is False
        assert claims_of(issued.json["keyToken"])["customer"] == ada["customerId"]
    assert CustomerRecord.count() == 1


def test_a_new_email_gets_a_human_identity_with_its_license_in_one_transaction(
    admin: Admin, tiers: dict[str, str]
) -> None:
    issued = admin(
        "POST",
        "/license-keys",
        {"productId": "Rdn.Identity", "tierId": "Enterprise",
         "customerEmail": "customer@example.com", "perpetual": True},
    )  # fmt: skip
    assert issued.status == 201, issued.text
    assert set(issued.json) == {
        "licenseId", "keyToken", "expiresAt", "customerId", "customerCreated"
    }  # fmt: skip
    assert issued.json["customerCreated"] is True
    customer_id = issued.json["customerId"]
    identity = CustomerRecord.get(customer_id)
    assert (identity.email, identity.kind, identity.tenant_id, identity.status) == (
        "customer@example.com", "human", "default", "active"
    )  # fmt: skip
    assert identity.subject is None and identity.metadata == {}
    unique = UniqueRecord.get(identity_store.email_unique_key("default", "Customer@Example.com"))
    assert unique.owner == customer_id
    license = LicenseRecord.get(issued.json["licenseId"])
    assert (license.customer_id, license.tenant_id) == (customer_id, "default")
    assert actions_of(customer_id) == ["identity.created"]
    assert actions_of(license.license_id) == ["license.issued"]
    # both audit records are lifecycle events of the outbox, each naming the identity
    created = next(iter(AuditRecord.query(customer_id)))
    issued_event = next(iter(AuditRecord.query(license.license_id)))
    events = [outbox.event_of(created), outbox.event_of(issued_event)]
    assert [event.detail_type for event in events if event] == [
        "identity.created",
        "license.issued",
    ]
    assert all(event and event.detail["customerId"] == customer_id for event in events)
    # the identity is found from now on, in any form of its email
    again = admin("POST", "/license-keys", issue_body(customerEmail="CUSTOMER@example.com"))
    assert (again.json["customerId"], again.json["customerCreated"]) == (customer_id, False)
    assert CustomerRecord.count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"customerId": "cus_x", "customerEmail": "x@example.com"},
        {},
        {"customerId": "cus_x", "tenantId": "default"},
    ],
)
def test_exactly_one_of_customer_id_and_customer_email(
    admin: Admin, tiers: dict[str, str], fields: dict[str, Any]
) -> None:
    before = snapshot()
    answer = admin("POST", "/license-keys", issue_body(**fields))
    refused(answer, 422, "VALIDATION_FAILED")
    assert snapshot() == before


def test_a_deactivated_identity_is_refused_by_email_too(
    admin: Admin, tiers: dict[str, str]
) -> None:
    bob = admin("POST", "/customers", {"email": "bob@example.com", "name": "Bob"}).json
    off = admin("POST", f"/customers/{bob['customerId']}/deactivate", {"reason": "left"})
    assert off.status == 200, off.text
    before = snapshot()
    refused(admin("POST", "/license-keys", issue_body(customerEmail="bob@example.com")), 409,
            "IDENTITY_DEACTIVATED")  # fmt: skip
    assert snapshot() == before


# --- tenants ----------------------------------------------------------------------------


@pytest.fixture
def two_tenants(admin: Admin, tiers: dict[str, str]) -> dict[str, dict[str, str]]:
    """Tenants a and b, each with an identity of shared@example.com."""
    found = {}
    for name in ("a", "b"):
        tenant_id = admin("POST", "/tenants", {"name": name}).json["tenantId"]
        shared = admin(
            "POST",
            "/customers",
            {"email": "shared@example.com", "name": name, "tenantId": tenant_id},
        )
        assert shared.status == 201, shared.text
        found[name] = {"tenantId": tenant_id, "customerId": shared.json["customerId"]}
    return found


def test_a_tenant_admin_finds_and_creates_identities_in_its_own_tenant_only(
    aws: CognitoPool, admin: Admin, two_tenants: dict[str, dict[str, str]]
) -> None:
    a, b = two_tenants["a"], two_tenants["b"]
    token = tenant_admin(aws, a["tenantId"])
    own = invoke(
        "POST", "/license-keys", body=issue_body(customerEmail="shared@example.com"), token=token
    )
    assert own.status == 201, own.text
    assert (own.json["customerId"], own.json["customerCreated"]) == (a["customerId"], False)
    # b's admin has b's identity of that email; an email only b (and default) know is new in a
    only_b = admin(
        "POST", "/customers", {"email": "bee@example.com", "name": "B", "tenantId": b["tenantId"]}
    )
    also_default = admin("POST", "/customers", {"email": "bee@example.com", "name": "D"})
    created = invoke(
        "POST", "/license-keys", body=issue_body(customerEmail="bee@example.com"), token=token
    )
    assert created.status == 201, created.text
    assert created.json["customerCreated"] is True
    assert created.json["customerId"] not in (
        only_b.json["customerId"],
        also_default.json["customerId"],
    )
    assert CustomerRecord.get(created.json["customerId"]).tenant_id == a["tenantId"]
    assert LicenseRecord.get(created.json["licenseId"]).tenant_id == a["tenantId"]
    named = invoke("POST", "/license-keys", token=token,
                   body=issue_body(customerEmail="bee@example.com", tenantId=a["tenantId"]))  # fmt: skip
    assert named.json["customerId"] == created.json["customerId"], named.text


def test_a_tenant_admin_naming_another_tenant_or_its_identity_writes_nothing(
    aws: CognitoPool, two_tenants: dict[str, dict[str, str]]
) -> None:
    a, b = two_tenants["a"], two_tenants["b"]
    token = tenant_admin(aws, a["tenantId"])
    before = snapshot()
    for body, code in (
        (
            issue_body(customerEmail="shared@example.com", tenantId=b["tenantId"]),
            "TENANT_NOT_FOUND",
        ),
        (issue_body(customerEmail="new@example.com", tenantId=b["tenantId"]), "TENANT_NOT_FOUND"),
        (issue_body(customerId=b["customerId"]), "CUSTOMER_NOT_FOUND"),
    ):
        refused(invoke("POST", "/license-keys", body=body, token=token), 422, code)
    assert snapshot() == before


def test_a_platform_admin_names_the_tenant_of_the_email(
    admin: Admin, two_tenants: dict[str, dict[str, str]]
) -> None:
    b = two_tenants["b"]
    found = admin(
        "POST",
        "/license-keys",
        issue_body(customerEmail="shared@example.com", tenantId=b["tenantId"]),
    )
    assert (found.json["customerId"], found.json["customerCreated"]) == (b["customerId"], False)
    default = admin("POST", "/license-keys", issue_body(customerEmail="shared@example.com"))
    assert default.json["customerCreated"] is True  # the default tenant had no such identity
    assert CustomerRecord.get(default.json["customerId"]).tenant_id == "default"
    before = snapshot()
    refused(admin("POST", "/license-keys", issue_body(customerEmail="x@example.com", tenantId="tnt_none")),
            422, "TENANT_NOT_FOUND")  # fmt: skip
    assert snapshot() == before


def test_no_provisioning_policy_applies_to_an_identity_created_for_its_license(
    admin: Admin, product: str, tiers: dict[str, str]
) -> None:
    """The policy would issue a second license of the product (and activating either would
    revoke the other): the license asked for is the identity's license."""
    policy = {"productId": product, "tierId": tiers["free"]}
    tenant = admin("POST", "/tenants", {"name": "P", "provisioning": policy}).json["tenantId"]
    issued = admin(
        "POST", "/license-keys", issue_body(customerEmail="p@example.com", tenantId=tenant)
    )
    assert issued.json["customerCreated"] is True, issued.text
    mine = admin("GET", f"/customers/{issued.json['customerId']}/license-keys").json["items"]
    assert [(lic["licenseId"], lic["tierId"]) for lic in mine] == [
        (issued.json["licenseId"], tiers["pro"])
    ]


# --- atomicity, races, retries ------------------------------------------------------


def test_a_failing_license_write_leaves_no_identity(
    admin: Admin, tiers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The license's own write fails inside the transaction (its id is taken): the new
    identity, its email claim and both audit records are rolled back with it."""
    ada = admin("POST", "/customers", {"email": "ada@example.com", "name": "Ada"}).json
    monkeypatch.setattr(licenses, "new_id", lambda prefix: f"{prefix}_taken")
    first = admin("POST", "/license-keys", issue_body(customerId=ada["customerId"]))
    assert first.status == 201 and first.json["licenseId"] == "lic_taken", first.text
    before = snapshot()
    answer = admin("POST", "/license-keys", issue_body(customerEmail="new@example.com"))
    assert answer.status == 409, answer.text
    assert snapshot() == before
    assert customers.by_email("default", "new@example.com") is None


def test_a_sensitive_tier_without_step_up_creates_no_identity(
    admin: Admin, weak_admin_token: str, product: str, tiers: dict[str, str]
) -> None:
    made = admin(
        "POST", f"/products/{product}/tiers", tier_body("vault", monthlyPrice=1, sensitive=True)
    )
    assert made.status == 201, made.text
    before = snapshot()
    answer = invoke("POST", "/license-keys", token=weak_admin_token,
                    body=issue_body(tierId="vault", customerEmail="new@example.com"))  # fmt: skip
    refused(answer, 401, "STEP_UP_REQUIRED")
    assert snapshot() == before
    stepped = admin(
        "POST", "/license-keys", issue_body(tierId="vault", customerEmail="new@example.com")
    )
    assert stepped.status == 201 and stepped.json["customerCreated"] is True, stepped.text


def test_an_identity_created_meanwhile_gets_the_license(
    admin: Admin, tiers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A racing request creates the email's identity between our lookup and our write:
    our transaction fails on the email's uniqueness record, and the retry issues to it."""
    found_by = customers.by_email
    raced: list[str] = []

    def racing(tenant_id: str, email: str) -> CustomerRecord | None:
        if not raced:
            racer = admin("POST", "/customers", {"email": email.upper(), "name": "Racer"}).json
            raced.append(racer["customerId"])
            return None  # what we read before the racer's write
        return found_by(tenant_id, email)

    monkeypatch.setattr(customers, "by_email", racing)
    issued = admin("POST", "/license-keys", issue_body(customerEmail="race@example.com"))
    assert issued.status == 201, issued.text
    assert (issued.json["customerId"], issued.json["customerCreated"]) == (raced[0], False)
    assert CustomerRecord.count() == 1 and LicenseRecord.count() == 1


def test_a_retried_issuance_to_a_new_email_creates_one_identity(
    admin_token: str, tiers: dict[str, str]
) -> None:
    body = issue_body(customerEmail="retry@example.com")
    headers = {"idempotency-key": "issue-retry-1"}
    first = invoke("POST", "/license-keys", body=body, token=admin_token, headers=headers)
    again = invoke("POST", "/license-keys", body=body, token=admin_token, headers=headers)
    assert first.status == again.status == 201, first.text
    assert first.json == again.json and first.json["customerCreated"] is True
    assert CustomerRecord.count() == 1 and LicenseRecord.count() == 1
    other = invoke("POST", "/license-keys", token=admin_token, headers=headers,
                   body=issue_body(customerEmail="other@example.com"))  # fmt: skip
    refused(other, 422, "IDEMPOTENCY_KEY_REUSED")
    assert CustomerRecord.count() == 1 and LicenseRecord.count() == 1
