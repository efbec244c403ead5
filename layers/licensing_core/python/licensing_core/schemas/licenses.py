"""Licenses and their keys: issue, read, search, change, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    model_validator,
)

from licensing_core.domain import search
from licensing_core.schemas.base import (
    ApiModel,
    Email,
    Id,
    Reason,
    RequestModel,
    SearchQuery,
    UtcDatetime,
)
from licensing_core.schemas.fields import (
    TokenText,
)


class LicenseCreate(RequestModel):
    product_id: Id = Field(description="The product's id, or its code (any case).")
    tier_id: Id = Field(description="The tier's id, or its code in the product (any case).")
    customer_id: Id | None = Field(
        default=None, description="The identity's id; give this or `customerEmail`."
    )
    customer_email: Email | None = Field(
        default=None,
        description="The identity with this email (in any of its forms) in `tenantId`; when "
        "there is none, a human identity is created with the license, in one transaction. "
        "Give this or `customerId`.",
    )
    tenant_id: Id | None = Field(
        default=None,
        description="With `customerEmail`: its tenant. Defaults to a tenant administrator's "
        "own tenant, else `default`.",
    )
    expires_at: UtcDatetime | None = Field(
        default=None, description="When the license ends; give this or `perpetual: true`."
    )
    perpetual: StrictBool = Field(default=False, description="A 100-year license.")

    @model_validator(mode="after")
    def _one_expiry(self) -> LicenseCreate:
        if self.perpetual == (self.expires_at is not None):
            raise ValueError("give exactly one of expiresAt and perpetual: true")
        return self

    @model_validator(mode="after")
    def _one_customer(self) -> LicenseCreate:
        if (self.customer_id is None) == (self.customer_email is None):
            raise ValueError("give exactly one of customerId and customerEmail")
        if self.tenant_id is not None and self.customer_email is None:
            raise ValueError("tenantId goes with customerEmail (an id names its tenant)")
        return self


class LicenseKey(ApiModel):
    """A freshly signed license key: hand ``keyToken`` to the customer."""

    license_id: str
    key_token: str
    expires_at: datetime


class IssuedLicense(LicenseKey):
    """A new license's key, and whose it is."""

    customer_id: str
    customer_created: bool = Field(
        default=False, description="Whether `customerEmail` named nobody: the identity is new."
    )


LicenseStatus = Literal["active", "suspended", "revoked"]


class StatusNote(ApiModel):
    reason: str | None = None
    by: str | None = None
    at: datetime | None = None


class License(ApiModel):
    license_id: str
    product_id: str
    product_code: str
    tier_id: str
    customer_id: str
    tenant_id: str
    status: LicenseStatus
    standing: search.Standing = Field(
        description="What the search's `status` filter matches: the status, `superseded` for "
        "a key revoked because another key of its identity and product was activated, "
        "`expired` for an active license past its expiry."
    )
    status_note: StatusNote | None = Field(default=None, description="Why the status changed.")
    perpetual: bool
    expires_at: datetime
    generation: int
    active_seats: int
    created_at: datetime
    updated_at: datetime


class LicensePage(ApiModel):
    items: list[License]
    next_cursor: str | None = None


def _searchable(value: datetime) -> datetime:
    if value > search.LATEST:
        raise ValueError("the date is out of range")
    return value


SearchMoment = Annotated[UtcDatetime, AfterValidator(_searchable)]


class LicenseSearch(SearchQuery):
    """``GET /license-keys``: licenses by product, tier, standing, identity, tenant and
    expiry range (the README says which index serves which filters)."""

    product_id: Id | None = Field(default=None, description="The product's id or code.")
    tier_id: Id | None = Field(
        default=None, description="The tier's id, or its code (with `productId`)."
    )
    status: search.Standing | None = Field(
        default=None, description="The licenses' `standing`: `expired` is active past expiry."
    )
    customer_id: Id | None = None
    email: Email | None = Field(
        default=None, description="The identity's address, in any of its forms."
    )
    tenant_id: Id | None = Field(
        default=None, description="The tenant (a tenant administrator's own, always)."
    )
    expires_before: SearchMoment | None = Field(
        default=None, description="Expiry strictly before this moment (never a perpetual)."
    )
    expires_after: SearchMoment | None = Field(
        default=None, description="Expiry at or after this moment (perpetual licenses too)."
    )


class StatusChange(RequestModel):
    reason: Reason


class Reinstate(RequestModel):
    reason: Reason | None = None


class Renew(RequestModel):
    expires_at: UtcDatetime


class Regenerate(RequestModel):
    revoke_previous: StrictBool = Field(
        default=False, description="Make earlier tokens validate as SUPERSEDED at once."
    )


class AuditRequest(RequestModel):
    token: TokenText | None = Field(
        default=None, description="A token to audit; default: the last key issued."
    )


class Difference(ApiModel):
    claim: str
    in_token: Any
    expected: Any


class AuditReport(ApiModel):
    status: Literal["consistent", "drift", "encrypted"]
    differences: list[Difference]


class HistoryEntry(ApiModel):
    action: str
    actor: str
    reason: str | None = None
    details: dict[str, Any]
    at: datetime


class History(ApiModel):
    items: list[HistoryEntry]
    next_cursor: str | None = None
