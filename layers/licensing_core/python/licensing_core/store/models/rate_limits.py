"""Fixed-window rate limit counters."""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)

from licensing_core.store.base import StoredModel


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
