"""Tenants and identities (customers)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
)

from licensing_core.domain import search
from licensing_core.schemas.base import (
    ApiModel,
    Email,
    Id,
    Metadata,
    Name,
    Reason,
    RequestModel,
    SearchQuery,
)
from licensing_core.schemas.fields import REGION_PATTERN
from licensing_core.schemas.licenses import LicenseKey


class ProvisioningPolicy(RequestModel):
    """What every identity created in a tenant is issued at once: a license of this
    product and tier, for ``days`` days (omitted: perpetual)."""

    product_id: Id
    tier_id: Id
    days: Annotated[StrictInt, Field(ge=1, le=36_500)] | None = Field(
        default=None, description="License length in days; omitted: perpetual."
    )


class TenantCreate(RequestModel):
    name: Name
    provisioning: ProvisioningPolicy | None = Field(
        default=None, description="Issue a license to every identity created in the tenant."
    )
    license_id: Id | None = Field(
        default=None,
        description="The license that serves this tenant: its tier's `maxTenants` bounds "
        "how many tenants one license serves.",
    )


class Tenant(ApiModel):
    tenant_id: str
    name: str
    provisioning: ProvisioningPolicy | None = None
    license_id: str | None = None
    created_at: datetime


class CustomerCreate(RequestModel):
    email: Email
    name: Name
    kind: Literal["human", "service"] = "human"
    tenant_id: Id | None = Field(default=None, description="Defaults to the `default` tenant.")
    subject: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = Field(
        default=None, description="The identity provider's `sub` for this identity."
    )
    metadata: Metadata = Field(
        default_factory=dict,
        description="Free-form, except keys that narrow the identity's licenses: `region` "
        "(e.g. `eu`, `us-east-1`: the one region its licenses may be used in) and "
        "`feature.<key>` (boolean; `false` withholds that feature of the tier).",
    )

    @field_validator("metadata")
    @classmethod
    def _narrowing_keys(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        region = metadata.get("region")
        if region is not None and not (
            isinstance(region, str) and re.match(REGION_PATTERN, region)
        ):
            raise ValueError("region must be a region code, such as eu or us-east-1")
        for key, value in metadata.items():
            if key.startswith("feature.") and not isinstance(value, bool):
                raise ValueError(f"{key} must be true or false")
        return metadata


class SignedUpAccount(RequestModel):
    """An account the identity provider just confirmed (a Cognito post-confirmation)."""

    model_config = ConfigDict(extra="ignore")

    subject: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    email: Email
    name: Name | None = None
    tenant_id: Id | None = None


CustomerStatus = Literal["active", "deactivated"]


class Customer(ApiModel):
    customer_id: str
    tenant_id: str
    email: str
    name: str
    kind: str
    subject: str | None = None
    metadata: dict[str, Any]
    status: CustomerStatus
    created_at: datetime
    updated_at: datetime
    provisioned_license: LicenseKey | None = Field(
        default=None,
        description="On creation in a tenant with a provisioning policy: the license issued.",
    )


class CustomerPage(ApiModel):
    items: list[Customer]
    next_cursor: str | None = None


class CustomerSearch(SearchQuery):
    """``GET /customers``: by email (every tenant, or ``tenantId``), or a tenant's
    identities, optionally by the prefix ``q`` of their email or name."""

    email: Email | None = Field(
        default=None, description="Exactly this address, in any of its forms."
    )
    q: Annotated[str, StringConstraints(min_length=1, max_length=search.NAME_KEY_LENGTH)] | None = (
        Field(default=None, description="A prefix of the email or the name, in any case.")
    )
    tenant_id: Id | None = Field(
        default=None, description="The tenant (a tenant administrator's own, always)."
    )
    status: CustomerStatus | None = None
    kind: Literal["human", "service"] | None = None


class CustomerStatusChange(RequestModel):
    reason: Reason | None = None


class IdentityCounts(ApiModel):
    active: int = 0
    deactivated: int = 0
    humans: int = 0
    services: int = 0


class LicenseCounts(ApiModel):
    active: int = 0
    suspended: int = 0
    revoked: int = 0
    #: Active by status, but past their expiry.
    expired: int = 0


class MeterUsage(ApiModel):
    meter: str
    period: str = Field(description="The current period: `2026-11` (month) or `2026-11-23`.")
    used: int
    counters: int = Field(description="How many (license, meter) counters it sums.")


class TenantSummary(ApiModel):
    tenant_id: str
    identities: IdentityCounts
    licenses: LicenseCounts
    usage: list[MeterUsage]
    generated_at: datetime
