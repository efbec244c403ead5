"""Operator statistics: sharded daily counters and their rollup markers."""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)

from licensing_core.store.base import StoredModel


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
