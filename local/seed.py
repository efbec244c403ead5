"""Demo data for the local server, written through the service layer (so every
invariant and audit rule applies, exactly as for an API call)."""

from __future__ import annotations

import logging

from licensing_core import schemas
from licensing_core.domain.errors import AlreadyExists, NotFound
from licensing_core.services import catalog

from local.aws import IdentityProvider, cognito_client

log = logging.getLogger("local.seed")

DEMO_PRODUCT = schemas.ProductCreate(
    code="Rdn.Identity",
    name="Rdn Identity",
    description="Demo product seeded by the local server.",
)
DEMO_FEATURES = (
    schemas.FeatureCreate(key="sso", name="Single sign-on"),
    schemas.FeatureCreate(key="passkeys", name="Passkeys"),
    schemas.FeatureCreate(key="multi_tenant", name="Multi-tenancy"),
    schemas.FeatureCreate(key="audit_log", name="Audit log"),
    schemas.FeatureCreate(key="data_export", name="Data export"),
    schemas.FeatureCreate(key="priority_support", name="Priority support", display_only=True),
)
#: Free ⊂ Pro ⊂ Enterprise: each tier includes the one before it.
DEMO_TIERS = (
    dict(
        code="free",
        name="Free",
        monthly_price=0,
        annual_price=0,
        max_users=1,
        features=["sso"],
        quotas={"api_calls": {"limit": 1000, "period": "month"}},
        self_service=True,
    ),
    dict(
        code="pro",
        name="Pro",
        monthly_price=2900,
        annual_price=29000,
        max_users=5,
        features=["passkeys", "multi_tenant"],
        quotas={"api_calls": {"limit": 100_000, "period": "month"}},
        self_service=True,
    ),
    dict(
        code="enterprise",
        name="Enterprise",
        monthly_price=9900,
        annual_price=99000,
        max_users=50,
        max_tenants=10,
        features=["audit_log", "data_export", "priority_support"],
        quotas={"api_calls": {"limit": 10_000_000, "period": "month"}},
        step_up={"data_export": {"acr": "mfa", "max_age": 300}},
        # machine files for machines that are not always online (README: "Machines...")
        offline={
            "allowed": True,
            "default_ttl_seconds": 30 * 86_400,
            "max_ttl_seconds": 365 * 86_400,
            "max_borrow_seconds": 14 * 86_400,
        },
    ),
)


def seed_demo() -> list[str]:
    """Create the demo catalog where missing; return what was created."""
    try:
        product = catalog.create_product(DEMO_PRODUCT)
    except AlreadyExists:
        log.info("product %s already seeded", DEMO_PRODUCT.code)
        return []
    for feature in DEMO_FEATURES:
        catalog.create_feature(product.product_id, feature)
    parent: str | None = None
    for tier in DEMO_TIERS:
        created = catalog.create_tier(
            product.product_id,
            schemas.TierCreate.model_validate(
                {
                    **tier,
                    "currency": "EUR",
                    "billing_periods": ["monthly", "annual"],
                    "includes_tier_id": parent,
                }
            ),
        )
        parent = created.tier_id
    self_service = [str(tier["code"]) for tier in DEMO_TIERS if tier.get("self_service")]
    return [
        f"product {DEMO_PRODUCT.code} ({product.product_id}) with tiers free, pro, enterprise",
        f"self-service registration ({', '.join(self_service)}): "
        f"/register?product={DEMO_PRODUCT.code}&tier={self_service[0]}",
    ]


DEMO_TENANT = schemas.TenantCreate(name="Acme Corp")


def seed_tenant_admin(endpoint: str, idp: IdentityProvider) -> list[str]:
    """The local tenant administrator's tenant: the one its ``custom:tenant`` attribute
    names (kept in the data directory with the user), else a new demo tenant."""
    from licensing_core.services import identities

    account = idp.accounts.get("tenant-admin")
    if account is None:
        return []
    client = cognito_client(endpoint)
    user = client.admin_get_user(UserPoolId=idp.user_pool_id, Username=account.username)
    named = {item["Name"]: item["Value"] for item in user["UserAttributes"]}.get("custom:tenant")
    if named is not None:
        try:
            identities.get_tenant(named)
            return []
        except NotFound:
            log.info("tenant %s of %s is gone: a new one", named, account.username)
    tenant = identities.create_tenant(DEMO_TENANT, actor="local seed")
    client.admin_update_user_attributes(
        UserPoolId=idp.user_pool_id,
        Username=account.username,
        UserAttributes=[{"Name": "custom:tenant", "Value": tenant.tenant_id}],
    )
    return [f"tenant {tenant.name} ({tenant.tenant_id}), administered by {account.username}"]
