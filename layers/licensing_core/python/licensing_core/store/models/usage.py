"""Metered usage: counters per meter and period, and idempotency receipts."""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection

from licensing_core.store.base import StoredModel


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
