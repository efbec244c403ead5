"""Request and response bodies of the public API (JSON, camelCase on the wire).

Requests forbid unknown fields, so ids, timestamps or counters can never be
mass-assigned. Services take and return these models; the HTTP edge serializes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from licensing_core.domain import search
from licensing_core.domain.emails import email_key
from licensing_core.domain.ids import CATALOG_ID_STARTS, is_catalog_id


class ApiModel(BaseModel):
    """Base of every body: camelCase aliases, Python names accepted too."""

    # defer_build: schemas are built on first use, not at import (cold starts, see bench)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, defer_build=True
    )


class RequestModel(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


def _not_an_id(code: str) -> str:
    if is_catalog_id(code):
        raise ValueError(f"a code cannot begin with {' or '.join(CATALOG_ID_STARTS)}: ids do")
    return code


#: The code of a new product or tier: never shaped like an id, so a reference is one or
#: the other (``domain/ids.is_catalog_id``).
CatalogCode = Annotated[Code, AfterValidator(_not_an_id)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


FeatureKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._~-]{1,128}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Money = Annotated[StrictInt, Field(ge=0, le=10**12, description="Integer minor units (cents).")]
Count = Annotated[StrictInt, Field(ge=1, le=10**9)]


def _email(value: str) -> str:
    """An address as typed (for display), once :func:`email_key` accepts it: every
    uniqueness check, lookup and rate limit uses that key, never this form."""
    email_key(value)
    return value.strip()


Email = Annotated[str, StringConstraints(min_length=3, max_length=254), AfterValidator(_email)]
#: A region code: ``eu``, ``us-east-1``.
_REGION = r"^[a-z]{2}(-[a-z0-9]{1,16}){0,3}$"
Region = Annotated[str, StringConstraints(pattern=_REGION)]
MetadataValue = Annotated[str, StringConstraints(max_length=256)] | StrictInt | StrictBool
Metadata = Annotated[
    dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")], MetadataValue
    ],
    Field(max_length=32, description="Up to 32 string, integer or boolean values."),
]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("values must be unique")
    return values


class PageQuery(RequestModel):
    limit: int = Field(default=50, ge=1, le=100, description="Page size (1-100).")
    cursor: Cursor | None = Field(default=None, description="`nextCursor` of the previous page.")


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


#: A machine file's lifetime: 1 hour to 366 days.
FileTtl = Annotated[StrictInt, Field(ge=3600, le=366 * 86_400)]


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
        if region is not None and not (isinstance(region, str) and re.match(_REGION, region)):
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


#: A search's cursor: longer than a listing's, it may carry a Unicode email key.
SearchCursor = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class SearchQuery(RequestModel):
    limit: int = Field(
        default=50,
        ge=1,
        le=100,
        description="Page size (1-100); a page may hold fewer (even none) and a "
        "`nextCursor`: each page examines a bounded number of index items.",
    )
    cursor: SearchCursor | None = Field(
        default=None, description="`nextCursor` of the previous page, with the same filters."
    )


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


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("the date is out of range") from error


#: A moment with a time zone, normalized to UTC (dates at the edges of time are refused).
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]
TokenText = Annotated[str, StringConstraints(min_length=1, max_length=65536)]


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


class ValidateRequest(RequestModel):
    key_token: TokenText
    region: Region | None = Field(
        default=None,
        description="Where the license is being used: a key limited to another region "
        "is not valid (REGION_NOT_ALLOWED).",
    )


class Validation(ApiModel):
    """An invalid key is not an error: ``valid`` is false and ``code`` says why."""

    valid: bool
    code: str = Field(description="VALID, or why not (see the README's validation codes).")
    license_id: str | None = None
    claims: dict[str, Any] | None = Field(default=None, description="Only for a valid key.")
    detail: str | None = None


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


MachineId = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,256}$")]
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class PublicJwk(BaseModel):
    """An RSA public key as a JWK; unknown members are kept so private ones can be refused."""

    model_config = ConfigDict(extra="allow")

    kty: str


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("only printable characters: no control, format or separator ones")
    return value


#: What a machine says of itself (hostname; platform or display name; app version):
#: printable text of bounded length, shown to administrators and the license's owner.
HostnameText = Annotated[
    str, StringConstraints(min_length=1, max_length=253), AfterValidator(_printable)
]
MachineText = Annotated[
    str, StringConstraints(min_length=1, max_length=128), AfterValidator(_printable)
]
VersionText = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_printable)
]


class ActivateRequest(RequestModel):
    key_token: TokenText
    machine_id: MachineId = Field(description="A stable id of the machine (printable ASCII).")
    region: Region | None = Field(
        default=None,
        description="Where the machine runs: a key limited to another region is refused "
        "(403 REGION_NOT_ALLOWED).",
    )
    product: Code | None = Field(
        default=None,
        description="The calling application's product code: keys of other "
        "products are refused (WRONG_AUDIENCE).",
    )
    public_key: Annotated[str, StringConstraints(max_length=16384)] | PublicJwk | None = Field(
        default=None,
        description="The machine's RSA public key (PEM or JWK, 2048+ bits): tokens are then "
        "encrypted to it (JWE RSA-OAEP + A256CBC-HS512).",
    )
    hostname: HostnameText | None = Field(default=None, description="The machine's host name.")
    platform: MachineText | None = Field(
        default=None, description="Its operating system, e.g. `Linux-6.8-x86_64`."
    )
    app_version: VersionText | None = Field(
        default=None, description="The version of the application activating."
    )
    name: MachineText | None = Field(
        default=None, description="A name for people to tell machines apart."
    )


TokenType = Literal["jwe", "jws"]


class MachineToken(ApiModel):
    token: str
    token_type: TokenType
    expires_at: datetime
    next_heartbeat_at: datetime


class Activation(MachineToken):
    activation_id: str
    client_id: str = Field(description="The machine's heartbeat credential: keep it secret.")


class HeartbeatRequest(RequestModel):
    client_id: ClientId


class DeactivateRequest(RequestModel):
    client_id: ClientId


class Deactivation(ApiModel):
    deactivated: bool = Field(description="False when the activation was already gone.")


class ActivationView(ApiModel):
    activation_id: str
    machine_id: str
    encrypted: bool = Field(description="Whether its tokens are encrypted to a machine key.")
    source_ip: str | None = None
    user_agent: str | None = None
    hostname: str | None = None
    platform: str | None = None
    app_version: str | None = None
    name: str | None = None
    activated_at: datetime
    last_heartbeat_at: datetime
    heartbeats: int
    dead: bool = Field(description="Silent past its token lifetime: its seat can be reclaimed.")
    offline_until: datetime | None = Field(
        default=None, description="Its machine files hold the seat until then, heartbeats or not."
    )


class ActivationList(ApiModel):
    items: list[ActivationView]
    active_seats: int
    max_users: int


class OwnActivation(ActivationView):
    """One of the caller's machines, and the license it holds a seat of."""

    license_id: str
    product_id: str
    product_code: str


class OwnActivationPage(ApiModel):
    items: list[OwnActivation]
    next_cursor: str | None = Field(default=None, description="The machines of your next licenses.")


class OwnActivationQuery(RequestModel):
    limit: int = Field(
        default=10, ge=1, le=25, description="Licenses per page (1-25): all their machines."
    )
    cursor: Cursor | None = Field(default=None, description="`nextCursor` of the previous page.")


class CheckoutRequest(RequestModel):
    client_id: ClientId
    ttl_seconds: FileTtl | None = Field(
        default=None, description="The file's lifetime; default the tier's `defaultTtlSeconds`."
    )


class OfflineActivationRequest(RequestModel):
    request: TokenText = Field(
        description="The activation request the SDK wrote: a JWS (`typ: "
        "activation-request+jwt`) signed by the machine's new key, carried in its `jwk` header."
    )
    ttl_seconds: FileTtl | None = Field(
        default=None, description="The file's lifetime; default the tier's `defaultTtlSeconds`."
    )


class BorrowRequest(RequestModel):
    client_id: ClientId
    seconds: FileTtl = Field(description="How long the seat is borrowed (the file's lifetime).")


class SeatProof(RequestModel):
    proof: TokenText = Field(
        description="A JWS by the machine's key over its activation id and the time "
        "(`typ: deactivation-proof+jwt`, or `return-proof+jwt` to return a borrowed seat)."
    )


class MachineFile(ApiModel):
    """A machine file: the license, signed for one machine, verifiable offline until
    `expiresAt` (and refused once its status list bit is set)."""

    activation_id: str
    machine_file: str = Field(
        description="A JWS (`typ: machine-file+jwt`), encrypted to the machine's key (JWE "
        "RSA-OAEP + A256CBC-HS512) when the activation has one."
    )
    file_type: TokenType
    mode: Literal["checkout", "offline", "borrow"]
    expires_at: datetime


class CustomerStatusChange(RequestModel):
    reason: Reason | None = None


IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")]


class UsageReport(RequestModel):
    """Usage of a metered quota, reported by an application for the identity it serves."""

    client_id: ClientId | None = Field(default=None, description="An activation's clientId.")
    key_token: TokenText | None = Field(default=None, description="Or the license key.")
    meter: FeatureKey = Field(description="A quota of the tier, e.g. `api_calls`.")
    quantity: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    idempotency_key: IdempotencyKey = Field(
        description="Unique per report: a retry with the same key counts once."
    )

    @model_validator(mode="after")
    def _one_credential(self) -> UsageReport:
        if (self.client_id is None) == (self.key_token is None):
            raise ValueError("give exactly one of clientId and keyToken")
        return self


class UsageResult(ApiModel):
    meter: str
    used: int
    limit: int
    remaining: int
    period_ends_at: datetime
    replayed: bool = Field(description="True when this idempotency key was already counted.")


class UsageCounter(ApiModel):
    license_id: str
    meter: str
    period: str
    used: int
    limit: int
    period_ends_at: datetime


class UsageList(ApiModel):
    items: list[UsageCounter]


class UsageQuery(RequestModel):
    periods: int = Field(
        default=1,
        ge=1,
        le=13,
        description="The current period and the `periods - 1` before it, by each meter's own "
        "period (months or days); counters are kept 400 days after their period.",
    )


def _iso_day(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


#: A calendar day (UTC), ``2026-11-23``.
Day = Annotated[date, BeforeValidator(_iso_day)]


class StatsScope(RequestModel):
    product_id: Id | None = Field(default=None, description="One product (default: all).")
    tenant_id: Id | None = Field(
        default=None,
        description="One tenant (default: all; a tenant administrator's own tenant).",
    )


class StatsQuery(StatsScope):
    from_: Day | None = Field(
        default=None, alias="from", description="First day (UTC; default: `to` - 29 days)."
    )
    to: Day | None = Field(default=None, description="Last day (UTC; default: today).")
    interval: Literal["day"] = "day"


class StatsPoint(ApiModel):
    date: date
    activations: int
    deactivations: int
    reclaimed: int
    issued: int
    revoked: int
    suspended: int
    active_machines: int = Field(description="Machines holding a seat at the end of the day.")
    usage: dict[str, int] = Field(description="Quantity reported that day, by meter.")


class StatsSeries(ApiModel):
    product_id: str | None
    tenant_id: str | None
    from_: date = Field(alias="from")
    to: date
    interval: Literal["day"]
    points: list[StatsPoint]


class LicenseStatusCounts(ApiModel):
    active: int = 0
    suspended: int = 0
    revoked: int = 0


class LicenseTotals(ApiModel):
    by_status: LicenseStatusCounts
    by_tier: dict[str, LicenseStatusCounts] = Field(description="By tier id.")


class SeatCounts(ApiModel):
    used: int = Field(description="Seats held by machines (= activeMachines).")
    total: int = Field(description="Seats the active licenses grant (their tiers' maxUsers).")


class StatsSummary(ApiModel):
    product_id: str | None
    tenant_id: str | None
    licenses: LicenseTotals
    active_machines: int
    seats: SeatCounts


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


class Jwk(ApiModel):
    """A public RSA signing key (RFC 7517); private members are never present."""

    model_config = ConfigDict(alias_generator=None)

    kty: Literal["RSA"]
    kid: str
    use: Literal["sig"]
    alg: Literal["RS256"]
    n: str
    e: str


class JwkSet(ApiModel):
    keys: list[Jwk]


class LicenseConfiguration(ApiModel):
    """Discovery document: everything a client needs to verify and renew tokens."""

    model_config = ConfigDict(alias_generator=None)

    issuer: str
    jwks_uri: str
    validate_endpoint: str
    activation_endpoint: str
    deactivation_endpoint: str
    heartbeat_endpoint: str
    openapi_uri: str
    token_signing_alg_values_supported: list[str]
    token_encryption_alg_values_supported: list[str]
    token_encryption_enc_values_supported: list[str]
    token_types_supported: list[str]
    checkout_endpoint: str
    borrow_endpoint: str
    return_endpoint: str
    offline_activation_endpoint: str
    offline_deactivation_endpoint: str

    # The seed's names, kept for clients written against it: derived, so always equal.
    @computed_field(  # type: ignore[prop-decorator]
        description="Alias of `activation_endpoint`, kept for clients written against the seed."
    )
    @property
    def activate_endpoint(self) -> str:
        return self.activation_endpoint

    @computed_field(  # type: ignore[prop-decorator]
        description="Alias of `token_signing_alg_values_supported`, kept for clients written "
        "against the seed."
    )
    @property
    def signing_algorithms(self) -> list[str]:
        return list(self.token_signing_alg_values_supported)

    @computed_field(  # type: ignore[prop-decorator]
        description="`token_encryption_alg_values_supported` followed by "
        "`token_encryption_enc_values_supported` (key and content algorithms of machine "
        "tokens), kept for clients written against the seed."
    )
    @property
    def encryption_algorithms(self) -> list[str]:
        return [
            *self.token_encryption_alg_values_supported,
            *self.token_encryption_enc_values_supported,
        ]


class OpenApiDocument(ApiModel):
    """The OpenAPI 3.1 document of this API."""

    model_config = ConfigDict(extra="allow", alias_generator=None)

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


class FieldError(ApiModel):
    path: str = Field(description="Where the error is, e.g. `body.maxUsers`.")
    message: str
    type: str


class Problem(ApiModel):
    """An RFC 9457 problem; ``code`` is stable and meant for programs."""

    model_config = ConfigDict(extra="allow", alias_generator=None)

    type: str = Field(
        description="URL of the page that explains the code: `/problems/<slug>` under this API."
    )
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable error code.")
    request_id: str = Field(
        alias="requestId",
        description="The request's id, as in the `apigw-requestid` response header: quote it "
        "to support to find the request in the logs.",
    )
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="Per-field errors (422).")


# Self-service registration and end users


class RegisterPageQuery(RequestModel):
    """``GET /register``: other query parameters (``utm_*``...) are ignored, not refused."""

    model_config = ConfigDict(extra="ignore")

    product: Code = Field(description="Product code, e.g. `Rdn.Identity`.")
    tier: Code = Field(description="Tier code, e.g. `free`.")


class RegisterRequest(RequestModel):
    """A self-service registration (JSON, or an HTML form post with the same fields)."""

    email: Email
    email_confirmation: Email | None = Field(
        default=None, description="The email typed again (the page's form sends it): must match."
    )
    product_code: Code
    tier_code: Code

    @field_validator("email_confirmation")
    @classmethod
    def _confirmed(cls, value: str | None, info: ValidationInfo) -> str | None:
        email = info.data.get("email")
        if value is not None and email is not None and email_key(value) != email_key(email):
            raise ValueError("the two email addresses differ")
        return value


class RegistrationAccepted(ApiModel):
    """Always the same answer, whether or not the email already had an account."""

    claim_id: str
    status: Literal["pending"] = "pending"
    expires_at: datetime = Field(description="Until when the license can be claimed.")


class ClaimRequest(RequestModel):
    product_code: Code | None = Field(
        default=None,
        description="Which product's claim to take when several are pending (default: the "
        "most recent registration).",
    )
