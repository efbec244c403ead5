"""Products, features, tiers and pricing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from licensing_core.schemas.base import (
    ApiModel,
    CatalogCode,
    Count,
    Currency,
    Description,
    FeatureKey,
    Id,
    Money,
    Name,
    RequestModel,
    _unique,
)
from licensing_core.schemas.fields import (
    FileTtl,
)


class ProductCreate(RequestModel):
    code: CatalogCode = Field(
        description="Stable product code; the `aud` of its license tokens. It may not begin "
        "with `prd_` or `tier_` (ids do)."
    )
    name: Name
    description: Description | None = None


class Product(ApiModel):
    product_id: str
    code: str
    name: str
    description: str | None = None
    created_at: datetime
    updated_at: datetime


class ProductPage(ApiModel):
    items: list[Product]
    next_cursor: str | None = None


class FeatureCreate(RequestModel):
    key: FeatureKey = Field(description="Stable slug, unique per product (`sso`, `passkeys`).")
    name: Name
    description: Description | None = None
    display_only: StrictBool = Field(
        default=False, description="Shown on pricing pages, never enforced nor put in tokens."
    )


class Feature(ApiModel):
    product_id: str
    key: str
    name: str
    description: str | None = None
    display_only: bool
    created_at: datetime


class FeatureList(ApiModel):
    items: list[Feature]


class Quota(RequestModel):
    limit: Count
    period: Literal["day", "month"] = "month"


class HeartbeatPolicy(RequestModel):
    interval_seconds: Annotated[StrictInt, Field(ge=60, le=86_400)] = 3600
    ttl_seconds: Annotated[StrictInt, Field(ge=120, le=30 * 86_400)] = 172_800

    @model_validator(mode="after")
    def _ttl_outlives_interval(self) -> HeartbeatPolicy:
        if self.ttl_seconds <= self.interval_seconds:
            raise ValueError("ttlSeconds must be longer than intervalSeconds")
        return self


class OfflinePolicy(RequestModel):
    """Whether machines may run offline on a machine file, and for how long (1 hour to 366
    days). ``maxBorrowSeconds`` 0 lets no online machine borrow its seat."""

    allowed: StrictBool = False
    default_ttl_seconds: FileTtl = 7 * 86_400
    max_ttl_seconds: FileTtl = 30 * 86_400
    max_borrow_seconds: Annotated[StrictInt, Field(ge=0, le=366 * 86_400)] = 0

    @model_validator(mode="after")
    def _consistent(self) -> OfflinePolicy:
        if self.default_ttl_seconds > self.max_ttl_seconds:
            raise ValueError("defaultTtlSeconds must not exceed maxTtlSeconds")
        if 0 < self.max_borrow_seconds < 3600:
            raise ValueError("maxBorrowSeconds is 0 (no borrowing) or 3600 and more")
        return self


class StepUpRequirement(RequestModel):
    acr: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    max_age: Annotated[StrictInt, Field(ge=0, le=30 * 86_400)]


BillingPeriods = Annotated[
    list[Literal["monthly", "annual"]], Field(min_length=1, max_length=2), AfterValidator(_unique)
]
FeatureKeys = Annotated[list[FeatureKey], Field(max_length=200), AfterValidator(_unique)]
Quotas = Annotated[dict[FeatureKey, Quota], Field(max_length=50)]
StepUpMap = Annotated[dict[FeatureKey, StepUpRequirement], Field(max_length=200)]


_PRICE = (
    "Integer minor units (cents); required when `billingPeriods` offers {period}, else kept "
    "for later and shown nowhere. 0 is free."
)


class TierCreate(RequestModel):
    code: CatalogCode = Field(
        description="Unique in the product; may not begin with `prd_` or `tier_` (ids do)."
    )
    name: Name
    description: Description | None = None
    includes_tier_id: Id | None = Field(
        default=None, description="Parent tier: its features are included, transitively."
    )
    monthly_price: Money | None = Field(default=None, description=_PRICE.format(period="monthly"))
    annual_price: Money | None = Field(default=None, description=_PRICE.format(period="annual"))
    currency: Currency
    billing_periods: BillingPeriods = Field(
        description="The periods the tier is sold for, each with its price (422 "
        "`PRICE_MISSING` otherwise)."
    )
    max_users: Count = Field(description="Seats: concurrent machine activations per license.")
    max_tenants: Count = 1
    features: FeatureKeys = Field(default_factory=list, description="Own feature keys.")
    quotas: Quotas = Field(default_factory=dict)
    heartbeat: HeartbeatPolicy = Field(default_factory=HeartbeatPolicy)
    offline: OfflinePolicy = Field(default_factory=OfflinePolicy)
    step_up: StepUpMap = Field(default_factory=dict, description="Feature -> required acr/maxAge.")
    self_service: StrictBool = Field(
        default=False, description="Whether end users may register for it themselves."
    )
    sensitive: StrictBool = Field(
        default=False, description="Issuing its licenses needs a step-up (license.issue)."
    )


class TierUpdate(RequestModel):
    """Fields to change; absent fields stay. ``includesTierId: null`` removes the parent,
    ``monthlyPrice``/``annualPrice: null`` a price (of a period the tier no longer offers)."""

    name: Name | None = None
    description: Description | None = None
    includes_tier_id: Id | None = None
    monthly_price: Money | None = None
    annual_price: Money | None = None
    currency: Currency | None = None
    billing_periods: BillingPeriods | None = None
    max_users: Count | None = None
    max_tenants: Count | None = None
    features: FeatureKeys | None = None
    quotas: Quotas | None = None
    heartbeat: HeartbeatPolicy | None = None
    offline: OfflinePolicy | None = None
    step_up: StepUpMap | None = None
    self_service: StrictBool | None = None
    sensitive: StrictBool | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> TierUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        nullable = {"includes_tier_id", "description", "monthly_price", "annual_price"}
        for name in self.model_fields_set - nullable:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ResolvedTier(ApiModel):
    features: list[str] = Field(
        description="Enforced features: own and inherited, no display-only."
    )
    display_features: list[str] = Field(description="Every feature to show, display-only included.")
    chain: list[str] = Field(description="Tier ids from this tier up to its root.")


class Tier(ApiModel):
    tier_id: str
    product_id: str
    code: str
    name: str
    description: str | None = None
    includes_tier_id: str | None = None
    monthly_price: int | None = None
    annual_price: int | None = None
    currency: str
    billing_periods: list[str]
    max_users: int
    max_tenants: int
    features: list[str]
    quotas: dict[str, Quota]
    heartbeat: HeartbeatPolicy
    offline: OfflinePolicy
    step_up: dict[str, StepUpRequirement]
    self_service: bool
    sensitive: bool
    resolved: ResolvedTier
    created_at: datetime
    updated_at: datetime


class TierList(ApiModel):
    items: list[Tier]


class PricingFeature(ApiModel):
    key: str
    name: str
    description: str | None = None
    display_only: bool


class PricingTier(ApiModel):
    code: str
    name: str
    description: str | None = None
    includes: str | None = Field(default=None, description="Code of the included tier.")
    monthly_price: int | None = Field(default=None, description="Set when `monthly` is offered.")
    annual_price: int | None = Field(default=None, description="Set when `annual` is offered.")
    currency: str
    billing_periods: list[str] = Field(description="The periods offered, each with its price.")
    max_users: int
    self_service: bool
    features: list[PricingFeature]


class Pricing(ApiModel):
    product_code: str
    product_name: str
    description: str | None = None
    tiers: list[PricingTier]
