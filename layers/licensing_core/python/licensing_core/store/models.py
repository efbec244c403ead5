"""The stored records. One table per aggregate; ``uniques`` guards unique values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pynamodb.attributes import (
    Attribute,
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import STRING
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection

from licensing_core.domain import emails, policies, search
from licensing_core.store.base import StoredModel

P = TypeVar("P", bound=policies.Policy)


class PolicyAttribute(Attribute[P]):
    """A tier policy, stored as JSON text in its one spelling (``serialized``); items
    written before in snake_case read too (``parse``)."""

    attr_type = STRING

    def __init__(self, policy: type[P], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.policy = policy

    def serialize(self, value: P) -> str:
        return json.dumps(value.serialized())

    def deserialize(self, value: str) -> P:
        return self.policy.parse(json.loads(value))


class PolicyMapAttribute(Attribute[Mapping[str, P]]):
    """Policies by key (a meter's quota, a feature's step-up rule), as JSON text."""

    attr_type = STRING

    def __init__(self, policy: type[P], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.policy = policy

    def serialize(self, value: Mapping[str, P]) -> str:
        return json.dumps(policies.serialized_map(value))

    def deserialize(self, value: str) -> Mapping[str, P]:
        return self.policy.parse_map(json.loads(value))


class ProductRecord(StoredModel):
    logical_name = "products"

    class Meta:
        table_name = "products"
        billing_mode = "PAY_PER_REQUEST"

    product_id = UnicodeAttribute(hash_key=True)
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    #: Bumped by every write that changes tier inheritance: concurrent edits that
    #: could together close a cycle cannot both commit.
    tiers_version = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class FeatureRecord(StoredModel):
    logical_name = "features"

    class Meta:
        table_name = "features"
        billing_mode = "PAY_PER_REQUEST"

    product_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    display_only = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()


class TierRecord(StoredModel):
    logical_name = "tiers"

    class Meta:
        table_name = "tiers"
        billing_mode = "PAY_PER_REQUEST"

    product_id = UnicodeAttribute(hash_key=True)
    tier_id = UnicodeAttribute(range_key=True)
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    includes_tier_id = UnicodeAttribute(null=True)
    #: None: not set (a period is offered only with its price).
    monthly_price = NumberAttribute(null=True)
    annual_price = NumberAttribute(null=True)
    currency = UnicodeAttribute()
    billing_periods = JSONAttribute()  # list[str]
    max_users = NumberAttribute()
    max_tenants = NumberAttribute()
    features = JSONAttribute(default=list)  # list[str], own feature keys
    #: Policies (``domain/policies``), typed; a tier stored without ``offline`` allows
    #: no offline use.
    quotas = PolicyMapAttribute(policies.Quota, default=dict)
    heartbeat = PolicyAttribute(policies.HeartbeatPolicy)
    offline = PolicyAttribute(policies.OfflinePolicy, default=policies.OfflinePolicy)
    step_up = PolicyMapAttribute(policies.StepUpRule, default=dict)
    self_service = BooleanAttribute(default=False)
    sensitive = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class TenantRecord(StoredModel):
    logical_name = "tenants"

    class Meta:
        table_name = "tenants"
        billing_mode = "PAY_PER_REQUEST"

    tenant_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    #: What an identity created in this tenant is issued at once:
    #: ``{"product_id", "tier_id", "days"}`` (``days`` None: perpetual).
    provisioning = JSONAttribute(null=True)
    #: The license that serves this tenant (its tier's ``maxTenants`` bounds how many).
    license_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)


class CustomersByTenant(GlobalSecondaryIndex["CustomerRecord"]):
    class Meta:
        index_name = "by-tenant"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)


class CustomersByEmail(GlobalSecondaryIndex["CustomerRecord"]):
    """An address's identities, one per tenant (the email search, in any tenant)."""

    class Meta:
        index_name = "by-email"
        projection = AllProjection()

    email_key = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute(range_key=True)


class CustomersByTenantEmail(GlobalSecondaryIndex["CustomerRecord"]):
    """A tenant's identities by email key: its listing, and email prefixes (``q``)."""

    class Meta:
        index_name = "by-tenant-email"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    email_key = UnicodeAttribute(range_key=True)


class CustomersByTenantName(GlobalSecondaryIndex["CustomerRecord"]):
    """A tenant's identities by folded name: name prefixes (``q``)."""

    class Meta:
        index_name = "by-tenant-name"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    name_key = UnicodeAttribute(range_key=True)


class CustomerRecord(StoredModel):
    """An identity: a human customer or a service account, in one tenant. Its search keys
    (``email_key``, ``name_key``) are derived from its email and name whenever it is
    saved (neither changes afterwards)."""

    logical_name = "customers"

    class Meta:
        table_name = "customers"
        billing_mode = "PAY_PER_REQUEST"

    customer_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    #: As typed, for display; unique per tenant by its key (``store.identities.email_unique_key``).
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    metadata = JSONAttribute(default=dict)
    status = UnicodeAttribute(default="active")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    #: ``domain.emails.email_key(email)`` and ``domain.search.name_key(name)``.
    email_key = UnicodeAttribute(null=True)
    name_key = UnicodeAttribute(null=True)

    by_tenant = CustomersByTenant()
    by_email = CustomersByEmail()
    by_tenant_email = CustomersByTenantEmail()
    by_tenant_name = CustomersByTenantName()

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        """Every put carries the search keys of the email and name it stores."""
        self.email_key = emails.email_key(self.email)
        self.name_key = search.name_key(self.name)
        return super().serialize(null_check)


class LicensesByCustomer(GlobalSecondaryIndex["LicenseRecord"]):
    class Meta:
        index_name = "by-customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    license_id = UnicodeAttribute(range_key=True)


class LicensesByTenant(GlobalSecondaryIndex["LicenseRecord"]):
    """A tenant's licenses for its summary. Projects only attributes that change with a
    license's status, so seat changes never write this index."""

    class Meta:
        index_name = "by-tenant"
        projection = IncludeProjection(["status", "expires_at", "product_id"])

    tenant_id = UnicodeAttribute(hash_key=True)
    license_id = UnicodeAttribute(range_key=True)


#: What the license searches filter on, beside their keys. Seat counts are not projected,
#: so activations never write these indexes (see ``LicensesByTenant``).
_SEARCH_FILTERS = ["product_id", "tier_id", "customer_id", "tenant_id"]


class LicensesByProductExpiry(GlobalSecondaryIndex["LicenseRecord"]):
    """A product's licenses by state and shard, soonest expiry first (``domain/search``)."""

    class Meta:
        index_name = "by-product-expiry"
        projection = IncludeProjection(_SEARCH_FILTERS)

    search_product = UnicodeAttribute(hash_key=True)
    search_expiry = UnicodeAttribute(range_key=True)


class LicensesByTenantExpiry(GlobalSecondaryIndex["LicenseRecord"]):
    """A tenant's licenses by state and shard, soonest expiry first (``domain/search``)."""

    class Meta:
        index_name = "by-tenant-expiry"
        projection = IncludeProjection(_SEARCH_FILTERS)

    search_tenant = UnicodeAttribute(hash_key=True)
    search_expiry = UnicodeAttribute(range_key=True)


class LicenseRecord(StoredModel):
    """A license key: who holds what, until when, and the claims last issued for it. Its
    search keys (``search_*``) are derived from its ids, state and expiry whenever it is
    saved, and set by every update that changes those (:meth:`search_actions`)."""

    logical_name = "licenses"

    class Meta:
        table_name = "licenses"
        billing_mode = "PAY_PER_REQUEST"

    license_id = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute()
    product_code = UnicodeAttribute()
    tier_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    status = UnicodeAttribute(default="active")  # active | suspended | revoked
    perpetual = BooleanAttribute(default=False)
    expires_at = UTCDateTimeAttribute()
    #: Bumped by every regeneration; tokens of a generation below ``min_generation``
    #: are superseded.
    generation = NumberAttribute(default=1)
    min_generation = NumberAttribute(default=1)
    issued_claims = JSONAttribute()
    #: How the identity's metadata narrows the license (domain ``Restrictions``), fixed at
    #: issue: tokens signed later (heartbeats, regenerations) need no identity read.
    restrictions = JSONAttribute(null=True)
    issued_token_sha256 = UnicodeAttribute()
    #: Active machine activations: only ever changed in the same transaction as one.
    active_seats = NumberAttribute(default=0)
    #: Tenants this license serves (``TenantRecord.license_id``), at most the tier's
    #: ``maxTenants``: only ever changed in the same transaction as a tenant.
    tenants_served = NumberAttribute(default=0)
    status_reason = UnicodeAttribute(null=True)
    status_changed_by = UnicodeAttribute(null=True)
    status_changed_at = UTCDateTimeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    #: The license whose activation revoked this one (one active key per identity and
    #: product): its state is ``superseded``.
    superseded_by = UnicodeAttribute(null=True)
    search_product = UnicodeAttribute(null=True)
    search_tenant = UnicodeAttribute(null=True)
    search_expiry = UnicodeAttribute(null=True)

    by_customer = LicensesByCustomer()
    by_tenant = LicensesByTenant()
    by_product_expiry = LicensesByProductExpiry()
    by_tenant_expiry = LicensesByTenantExpiry()

    def search_keys(self) -> dict[str, str]:
        """The search index attributes of the license as it is now, by attribute name."""
        return search.license_keys(
            license_id=self.license_id,
            product_id=self.product_id,
            tenant_id=self.tenant_id,
            status=self.status,
            superseded_by=self.superseded_by,
            expires_at=self.expires_at,
            perpetual=self.perpetual,
        )

    def search_actions(self) -> list[Action]:
        """Update actions setting the search keys to the license's current fields: for
        every update that changes its status, supersession or expiry."""
        attributes = self.get_attributes()
        return [attributes[name].set(value) for name, value in self.search_keys().items()]

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        """Every put carries the search keys of what it stores."""
        for name, value in self.search_keys().items():
            setattr(self, name, value)
        return super().serialize(null_check)


class ActivationRecord(StoredModel):
    """A machine holding a seat of a license. Keyed by license, so the activations of a
    license are one strongly consistent query; never expired by TTL (a deleted item
    would leak its seat)."""

    logical_name = "activations"

    class Meta:
        table_name = "activations"
        billing_mode = "PAY_PER_REQUEST"

    license_id = UnicodeAttribute(hash_key=True)
    #: SHA-256 of the clientId: the secret itself is never stored.
    activation_id = UnicodeAttribute(range_key=True)
    customer_id = UnicodeAttribute()
    machine_id = UnicodeAttribute()
    public_key = JSONAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    #: What the machine says of itself at activation (``schemas.ActivateRequest``).
    hostname = UnicodeAttribute(null=True)
    platform = UnicodeAttribute(null=True)
    app_version = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    ttl_seconds = NumberAttribute()
    activated_at = UTCDateTimeAttribute()
    last_heartbeat_at = UTCDateTimeAttribute()
    heartbeats = NumberAttribute(default=0)
    #: ``active``, or ``reclaimed``: a tombstone kept so the dead machine learns why.
    status = UnicodeAttribute(default="active")
    #: Set on tombstones only; TTL deleting a tombstone never touches a seat.
    expires_ttl = TTLAttribute(null=True)
    #: Offline use (``services/offline.py``): the seat is held, heartbeats or not, until
    #: the last machine file ends; how the files came (checkout, offline, borrow); the
    #: status list entry every file of this activation carries (``domain/status_lists``).
    offline_until = UTCDateTimeAttribute(null=True)
    offline_mode = UnicodeAttribute(null=True)
    status_entry = NumberAttribute(null=True)


class AuditRecord(StoredModel):
    """Who did what to a record, when and why; written in the mutation's transaction.
    Its table's stream is the outbox of lifecycle events (``licensing_core.outbox``)."""

    logical_name = "audit"

    class Meta:
        table_name = "audit"
        billing_mode = "PAY_PER_REQUEST"
        #: The outbox: every committed audit record reaches the stream's consumers.
        stream_view_type = "NEW_IMAGE"

    subject_id = UnicodeAttribute(hash_key=True)
    #: ``<ISO time>#<random>``: records of a subject sort by time.
    event_key = UnicodeAttribute(range_key=True)
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    details = JSONAttribute(default=dict)
    at = UTCDateTimeAttribute()


class UsageByCustomer(GlobalSecondaryIndex["UsageRecord"]):
    class Meta:
        index_name = "by-customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    usage_key = UnicodeAttribute(range_key=True)


class UsageByTenant(GlobalSecondaryIndex["UsageRecord"]):
    """A tenant's usage counters by period, for its summary."""

    class Meta:
        index_name = "by-tenant"
        projection = IncludeProjection(["meter", "used"])

    tenant_id = UnicodeAttribute(hash_key=True)
    usage_key = UnicodeAttribute(range_key=True)


class UsageRecord(StoredModel):
    """A usage counter of one (license, meter, period). Written with one conditional
    update that also records the idempotency key (attributes ``idem_<hash>``)."""

    logical_name = "usage"

    class Meta:
        table_name = "usage"
        billing_mode = "PAY_PER_REQUEST"
        #: Each count's change feeds the statistics rollup (``services/rollup.py``): the
        #: report itself writes nothing more.
        stream_view_type = "NEW_AND_OLD_IMAGES"

    counter_key = UnicodeAttribute(hash_key=True)  # <licenseId>#<meter>
    period = UnicodeAttribute(range_key=True)  # 2026-11 or 2026-11-23
    usage_key = UnicodeAttribute()  # <period>#<licenseId>#<meter>
    customer_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    license_id = UnicodeAttribute()
    #: For the statistics of the product (set by every report; null on older counters).
    product_id = UnicodeAttribute(null=True)
    meter = UnicodeAttribute()
    used = NumberAttribute(default=0)
    limit = NumberAttribute()
    period_ends_at = UTCDateTimeAttribute()
    expires_ttl = TTLAttribute(null=True)

    by_customer = UsageByCustomer()
    by_tenant = UsageByTenant()


class UsageReceipt(StoredModel):
    """That one usage report (by its idempotency key) was counted, and what it answered.
    Lives in the usage table beside the counters (a different key), expires by TTL."""

    logical_name = "usage"

    class Meta:
        table_name = "usage"
        billing_mode = "PAY_PER_REQUEST"

    counter_key = UnicodeAttribute(hash_key=True)  # <licenseId>#receipt#<sha256>
    period = UnicodeAttribute(range_key=True)
    #: What the key was used for: a reuse for another meter or quantity is refused.
    meter = UnicodeAttribute(null=True)
    quantity = NumberAttribute()
    used = NumberAttribute(null=True)
    expires_ttl = TTLAttribute(null=True)


class IdempotencyRecord(StoredModel):
    """Written by Powertools idempotency (``http/idempotency.py``); declared here so the
    table is created like every other, with its TTL."""

    logical_name = "idempotency"

    class Meta:
        table_name = "idempotency"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)


class UniqueRecord(StoredModel):
    """Claims a value that must be unique (``PRODUCT_CODE#rdn.identity``), written in
    the same transaction as the record that owns it."""

    logical_name = "uniques"

    class Meta:
        table_name = "uniques"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()


class ClaimsByStatus(GlobalSecondaryIndex["PendingLicenseClaim"]):
    """Claims by status, soonest expiry first: the scheduled job's way to find pending
    claims past their expiry. Eventually consistent, which is harmless: every change it
    leads to is a conditional write on the table itself."""

    class Meta:
        index_name = "by-status-expiry"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    expires_at = UTCDateTimeAttribute(range_key=True)


class PendingLicenseClaim(StoredModel):
    """A self-service registration waiting for its customer to sign in and claim the
    license: at most one per (email, product), replaced by a newer registration.

    ``pending`` -> ``claiming`` (one request holds a short lease while it issues the
    license) -> ``fulfilled``; ``pending`` -> ``expired`` (the scheduled job, once
    ``expires_at`` passed). Every change is conditional on the status it leaves, so a
    claim is fulfilled at most once and never expired once fulfilled.
    """

    logical_name = "claims"

    class Meta:
        table_name = "claims"
        billing_mode = "PAY_PER_REQUEST"

    email = UnicodeAttribute(hash_key=True)  # its key: domain.emails.email_key
    product_id = UnicodeAttribute(range_key=True)
    claim_id = UnicodeAttribute()
    product_code = UnicodeAttribute()
    tier_id = UnicodeAttribute()
    tier_code = UnicodeAttribute()
    #: The identity provider's subject of the invited (or existing) user, when known.
    subject = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="pending")  # pending | claiming | fulfilled | expired
    expires_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    #: The lease of the request that is issuing the license (status ``claiming``).
    attempt = UnicodeAttribute(null=True)
    claiming_at = UTCDateTimeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    license_id = UnicodeAttribute(null=True)
    fulfilled_at = UTCDateTimeAttribute(null=True)
    #: Eventual deletion, long after expiry (never relied on for any decision).
    delete_after = TTLAttribute(null=True)

    by_status = ClaimsByStatus()


class RateLimitRecord(StoredModel):
    """A fixed-window counter (``register#ip#<hash>#<window start>``), raised by one
    conditional ``ADD`` that fails once the window's limit is reached; TTL removes it."""

    logical_name = "rate_limits"

    class Meta:
        table_name = "rate_limits"
        billing_mode = "PAY_PER_REQUEST"

    bucket = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_ttl = TTLAttribute(null=True)


class StatsRecord(StoredModel):
    """A statistics counter row (``store/stats.py``), raised by ``ADD`` only: the counts of
    one scope (product and tenant, ``*`` for all) in one shard, for one day
    (``2026-11-23``), one meter's usage of a day (``2026-11-23#usage#api_calls``), all
    time (``all``: active machines) or one tier (``tier#<productId>#<tierId>``: licenses
    by status)."""

    logical_name = "stats"

    class Meta:
        table_name = "stats"
        billing_mode = "PAY_PER_REQUEST"

    bucket = UnicodeAttribute(hash_key=True)  # <productId|*>|<tenantId|*>|<shard>
    row = UnicodeAttribute(range_key=True)
    activations = NumberAttribute(null=True)
    deactivations = NumberAttribute(null=True)
    reclaimed = NumberAttribute(null=True)
    issued = NumberAttribute(null=True)
    revoked = NumberAttribute(null=True)
    suspended = NumberAttribute(null=True)
    #: Day rows: net machines activated that day; ``all``: machines active now.
    machines = NumberAttribute(null=True)
    quantity = NumberAttribute(null=True)
    licenses_active = NumberAttribute(null=True)
    licenses_suspended = NumberAttribute(null=True)
    licenses_revoked = NumberAttribute(null=True)
    #: Day rows only: they outlive their retention a little, then go.
    expires_ttl = TTLAttribute(null=True)


class StatsMarker(StoredModel):
    """That one stream record was counted (``seen#<id>``), written in the same
    transaction as its counts; expires by TTL once no redelivery can come."""

    logical_name = "stats"

    class Meta:
        table_name = "stats"
        billing_mode = "PAY_PER_REQUEST"

    bucket = UnicodeAttribute(hash_key=True)
    row = UnicodeAttribute(range_key=True)
    expires_ttl = TTLAttribute(null=True)


class StatusChunk(StoredModel):
    """One fixed-size chunk of a status list's bits (``domain/status_lists.py``), changed
    by conditional writes on ``version``; chunk ``HEAD`` (-1) holds no bits, only the
    list's version, raised with every change of its bits (the list's ETag)."""

    logical_name = "status_lists"
    HEAD = -1

    class Meta:
        table_name = "status_lists"
        billing_mode = "PAY_PER_REQUEST"

    list_id = UnicodeAttribute(hash_key=True)
    chunk = NumberAttribute(range_key=True)
    bits = BinaryAttribute(null=True, legacy_encoding=False)
    version = NumberAttribute(default=0)


class StatusCounter(StoredModel):
    """The number of status list entries ever allocated (one atomic ``ADD`` each)."""

    logical_name = "status_lists"

    class Meta:
        table_name = "status_lists"
        billing_mode = "PAY_PER_REQUEST"

    list_id = UnicodeAttribute(hash_key=True)  # "counter"
    chunk = NumberAttribute(range_key=True)  # 0
    allocated = NumberAttribute(default=0)


#: Every stored model; CDK and the local server create one table for each.
ALL_MODELS: tuple[type[StoredModel], ...] = (
    ProductRecord,
    FeatureRecord,
    TierRecord,
    TenantRecord,
    CustomerRecord,
    LicenseRecord,
    ActivationRecord,
    AuditRecord,
    UsageRecord,
    IdempotencyRecord,
    UniqueRecord,
    PendingLicenseClaim,
    RateLimitRecord,
    StatsRecord,
    StatusChunk,
)
