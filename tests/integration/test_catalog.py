"""Features, tiers with inheritance, pricing, tenants and customers through the handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from licensing_core.store.models import (
    CustomerRecord,
    FeatureRecord,
    TenantRecord,
    TierRecord,
    UniqueRecord,
)

from tests.integration.conftest import tier_body
from tests.support import Response, invoke


def counts() -> tuple[int, ...]:
    return tuple(
        m.count() for m in (FeatureRecord, TierRecord, TenantRecord, CustomerRecord, UniqueRecord)
    )


def test_tiers_resolve_inherited_features_without_display_only(
    admin: Callable[..., Response], product: str, tiers: dict[str, str]
) -> None:
    ent = admin("GET", f"/products/{product}/tiers/{tiers['enterprise']}").json
    assert ent["features"] == ["audit_log", "priority_support"]
    assert ent["resolved"]["features"] == ["audit_log", "multi_tenant", "passkeys", "sso"]
    assert ent["resolved"]["displayFeatures"] == [
        "audit_log",
        "multi_tenant",
        "passkeys",
        "priority_support",
        "sso",
    ]
    assert ent["resolved"]["chain"] == [tiers["enterprise"], tiers["pro"], tiers["free"]]
    assert ent["heartbeat"] == {"intervalSeconds": 3600, "ttlSeconds": 172800}
    assert ent["stepUp"] == {"audit_log": {"acr": "mfa", "maxAge": 300}}
    listed = admin("GET", f"/products/{product}/tiers").json["items"]
    assert [t["code"] for t in listed] == ["free", "pro", "enterprise"]


def test_patch_changes_fields_and_reparents(
    admin: Callable[..., Response], product: str, tiers: dict[str, str]
) -> None:
    path = f"/products/{product}/tiers/{tiers['enterprise']}"
    patched = admin("PATCH", path, {"includesTierId": tiers["free"], "maxUsers": 100})
    assert patched.status == 200, patched.text
    assert patched.json["maxUsers"] == 100
    assert "passkeys" not in patched.json["resolved"]["features"]
    detached = admin("PATCH", path, {"includesTierId": None})
    assert detached.json["resolved"]["features"] == ["audit_log"]


def test_cycles_are_refused_and_nothing_changes(
    admin: Callable[..., Response], product: str, tiers: dict[str, str]
) -> None:
    before = admin("GET", f"/products/{product}/tiers").json
    for target, parent in (("free", "enterprise"), ("free", "free"), ("pro", "enterprise")):
        response = admin(
            "PATCH", f"/products/{product}/tiers/{tiers[target]}", {"includesTierId": tiers[parent]}
        )
        assert (response.status, response.json["code"]) == (409, "TIER_CYCLE"), (target, parent)
    assert admin("GET", f"/products/{product}/tiers").json == before


def test_public_pricing_shows_every_feature_by_code(tiers: dict[str, str]) -> None:
    response = invoke("GET", "/products/rdn.identity/pricing")  # no token, any case
    assert response.status == 200, response.text
    pricing = response.json
    assert pricing["productCode"] == "Rdn.Identity"
    ent = pricing["tiers"][2]
    assert (ent["code"], ent["includes"], ent["monthlyPrice"]) == ("enterprise", "pro", 9900)
    shown = {f["key"]: f["displayOnly"] for f in ent["features"]}
    assert shown["priority_support"] is True and shown["sso"] is False
    missing = invoke("GET", "/products/no-such-product/pricing")
    assert (missing.status, missing.json["code"]) == (404, "PRODUCT_NOT_FOUND")


BAD_TIERS = [
    ({"includesTierId": "tier_unknown"}, 422, "UNKNOWN_PARENT_TIER"),
    ({"monthlyPrice": -1}, 422, "VALIDATION_FAILED"),
    ({"monthlyPrice": 9.99}, 422, "VALIDATION_FAILED"),
    ({"monthlyPrice": "999"}, 422, "VALIDATION_FAILED"),
    ({"maxUsers": 0}, 422, "VALIDATION_FAILED"),
    ({"currency": "euro"}, 422, "VALIDATION_FAILED"),
    ({"billingPeriods": []}, 422, "VALIDATION_FAILED"),
    ({"billingPeriods": ["monthly", "monthly"]}, 422, "VALIDATION_FAILED"),
    ({"features": ["teleport"]}, 422, "UNKNOWN_FEATURE"),
    ({"stepUp": {"teleport": {"acr": "mfa", "maxAge": 60}}}, 422, "UNKNOWN_FEATURE"),
    ({"heartbeat": {"intervalSeconds": 3600, "ttlSeconds": 3600}}, 422, "VALIDATION_FAILED"),
    ({"tierId": "tier_mine"}, 422, "VALIDATION_FAILED"),
    ({"createdAt": "2020-01-01T00:00:00Z"}, 422, "VALIDATION_FAILED"),
    ({"code": "free"}, 409, "TIER_CODE_TAKEN"),
]


@pytest.mark.parametrize(("overrides", "status", "code"), BAD_TIERS)
def test_bad_tiers_are_refused_and_nothing_is_written(
    admin: Callable[..., Response],
    product: str,
    tiers: dict[str, str],
    overrides: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = counts()
    response = admin("POST", f"/products/{product}/tiers", {**tier_body("new"), **overrides})
    assert (response.status, response.json["code"]) == (status, code), response.text
    assert counts() == before


def test_parent_from_another_product_is_refused(
    admin: Callable[..., Response], product: str, tiers: dict[str, str]
) -> None:
    other = admin("POST", "/products", {"code": "Other", "name": "Other"}).json["productId"]
    response = admin(
        "POST", f"/products/{other}/tiers", tier_body("x", includesTierId=tiers["pro"])
    )
    assert (response.status, response.json["code"]) == (422, "UNKNOWN_PARENT_TIER")


def test_duplicate_feature_and_unknown_product_are_refused(
    admin: Callable[..., Response], product: str
) -> None:
    dup = admin("POST", f"/products/{product}/features", {"key": "sso", "name": "Again"})
    assert (dup.status, dup.json["code"]) == (409, "FEATURE_EXISTS")
    missing = admin("POST", "/products/prd_missing/features", {"key": "x", "name": "X"})
    assert (missing.status, missing.json["code"]) == (404, "PRODUCT_NOT_FOUND")
    bad_key = admin("POST", f"/products/{product}/features", {"key": "Has Space", "name": "X"})
    assert bad_key.status == 422


def test_empty_or_null_patch_is_refused(
    admin: Callable[..., Response], product: str, tiers: dict[str, str]
) -> None:
    path = f"/products/{product}/tiers/{tiers['pro']}"
    assert admin("PATCH", path, {}).status == 422
    assert admin("PATCH", path, {"maxUsers": None}).status == 422
    assert admin("PATCH", f"/products/{product}/tiers/tier_nope", {"name": "x"}).status == 404


def test_tenants_and_customers(
    admin: Callable[..., Response], product: str, tiers: dict[str, str]
) -> None:
    tenant = admin(
        "POST",
        "/tenants",
        {"name": "Acme", "provisioning": {"productId": product, "tierId": tiers["pro"]}},
    )
    assert tenant.status == 201, tenant.text
    tenant_id = tenant.json["tenantId"]
    assert admin("GET", f"/tenants/{tenant_id}").json["name"] == "Acme"
    created = admin(
        "POST",
        "/customers",
        {
            "email": " Ada@Example.COM ",
            "name": "Ada",
            "tenantId": tenant_id,
            "subject": "sub-ada",
            "metadata": {"region": "eu", "seats": 3},
        },
    )
    assert created.status == 201, created.text
    customer = created.json
    assert (customer["email"], customer["kind"], customer["status"]) == (
        "Ada@Example.COM",  # as typed (stripped); unique by its key
        "human",
        "active",
    )
    # The tenant's policy provisioned a license, shown once, in the creation's answer.
    assert customer["provisionedLicense"]["licenseId"].startswith("lic_")
    shown = admin("GET", f"/customers/{customer['customerId']}").json
    assert shown == {**customer, "provisionedLicense": None}
    robot = admin(
        "POST", "/customers", {"email": "ci@example.com", "name": "CI", "kind": "service"}
    )
    assert robot.json["tenantId"] == "default"
    listed = admin("GET", f"/tenants/{tenant_id}/customers").json
    assert [c["customerId"] for c in listed["items"]] == [customer["customerId"]]


def test_customer_pages_follow_the_cursor(admin: Callable[..., Response]) -> None:
    tenant_id = admin("POST", "/tenants", {"name": "Big"}).json["tenantId"]
    for n in range(5):
        assert (
            admin(
                "POST", "/customers", {"email": f"u{n}@x.io", "name": "U", "tenantId": tenant_id}
            ).status
            == 201
        )
    seen, query = [], {"limit": "2"}
    while True:
        page = admin("GET", f"/tenants/{tenant_id}/customers", query=query).json
        seen += [c["email"] for c in page["items"]]
        if not page["nextCursor"]:
            break
        query = {"limit": "2", "cursor": page["nextCursor"]}
    assert sorted(seen) == [f"u{n}@x.io" for n in range(5)]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "not-an-email", "name": "X"}, 422, "VALIDATION_FAILED"),
        ({"email": "a@b.co", "name": "X", "kind": "robot"}, 422, "VALIDATION_FAILED"),
        ({"email": "a@b.co", "name": "X", "tenantId": "tnt_missing"}, 422, "TENANT_NOT_FOUND"),
        ({"email": "a@b.co", "name": "X", "status": "deactivated"}, 422, "VALIDATION_FAILED"),
        ({"email": "a@b.co", "name": "X", "customerId": "cus_mine"}, 422, "VALIDATION_FAILED"),
        (
            {"email": "a@b.co", "name": "X", "metadata": {"k": {"nested": 1}}},
            422,
            "VALIDATION_FAILED",
        ),
        ({"email": "a@b.co", "name": "X", "metadata": {"region": "EU!"}}, 422, "VALIDATION_FAILED"),
        ({"email": "a@b.co", "name": "X", "metadata": {"region": 3}}, 422, "VALIDATION_FAILED"),
        (
            {"email": "a@b.co", "name": "X", "metadata": {"feature.sso": "no"}},
            422,
            "VALIDATION_FAILED",
        ),
        ({"email": "taken@b.co", "name": "X"}, 409, "EMAIL_TAKEN"),
        ({"email": "TAKEN@b.co", "name": "X"}, 409, "EMAIL_TAKEN"),
        ({"email": "other@b.co", "name": "X", "subject": "sub-taken"}, 409, "SUBJECT_TAKEN"),
    ],
)
def test_bad_customers_are_refused_and_nothing_is_written(
    admin: Callable[..., Response], body: dict[str, Any], status: int, code: str
) -> None:
    assert (
        admin(
            "POST", "/customers", {"email": "taken@b.co", "name": "T", "subject": "sub-taken"}
        ).status
        == 201
    )
    before = counts()
    response = admin("POST", "/customers", body)
    assert (response.status, response.json["code"]) == (status, code), response.text
    assert counts() == before


def test_bad_tenants_are_refused(admin: Callable[..., Response], product: str) -> None:
    before = counts()
    for body, code in [
        ({"name": "T", "provisioning": {"productId": product}}, "VALIDATION_FAILED"),
        (
            {"name": "T", "provisioning": {"productId": "prd_missing", "tierId": "t"}},
            "PRODUCT_NOT_FOUND",
        ),
        (
            {"name": "T", "provisioning": {"productId": product, "tierId": "tier_missing"}},
            "TIER_NOT_FOUND",
        ),
    ]:
        response = admin("POST", "/tenants", body)
        assert (response.status, response.json["code"]) == (422, code)
    assert counts() == before
    assert admin("GET", "/tenants/tnt_missing").status == 404
    assert admin("GET", "/customers/cus_missing").status == 404


def test_racing_edits_cannot_close_a_cycle_together(
    admin: Callable[..., Response], product: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each edit is valid alone; whichever commits second re-checks against the first."""
    from licensing_core import schemas
    from licensing_core.services import catalog

    a = admin("POST", f"/products/{product}/tiers", tier_body("a")).json["tierId"]
    b = admin("POST", f"/products/{product}/tiers", tier_body("b")).json["tierId"]
    original_load = catalog.ProductCatalog.load_for_write
    raced: list[bool] = []

    def load_then_race(product_id: str) -> catalog.ProductCatalog:
        loaded = original_load(product_id)
        if not raced:  # the competing edit commits after our read, before our write
            raced.append(True)
            catalog.update_tier(product, a, schemas.TierUpdate(includes_tier_id=b))
        return loaded

    monkeypatch.setattr(catalog.ProductCatalog, "load_for_write", load_then_race)
    response = admin("PATCH", f"/products/{product}/tiers/{b}", {"includesTierId": a})
    assert (response.status, response.json["code"]) == (409, "TIER_CYCLE")
    monkeypatch.undo()
    assert admin("GET", f"/products/{product}/tiers/{b}").json["includesTierId"] is None
    assert admin("GET", f"/products/{product}/tiers/{a}").json["includesTierId"] == b
