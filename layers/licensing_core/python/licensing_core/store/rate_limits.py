"""Fixed-window rate limits (registration's per-IP and per-email counters): one
conditional ``ADD`` per attempt, keys stored hashed, windows expired by TTL."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

from licensing_core.domain.errors import RateLimited
from licensing_core.store.errors import storage_errors
from licensing_core.store.models import RateLimitRecord


def hit(scope: str, key: str, *, limit: int, window_seconds: int, now: datetime) -> int:
    """Count one attempt of ``key`` (an email, an IP) in the current fixed window of
    ``scope`` with one conditional ``ADD``; :class:`RateLimited` (with
    ``retryAfterSeconds``) once the window already holds ``limit`` attempts. Returns the
    attempts counted in the window so far. Keys are stored hashed."""
    epoch = now.timestamp()
    start = int(epoch // window_seconds) * window_seconds
    retry_after = max(1, math.ceil(start + window_seconds - epoch))
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    record = RateLimitRecord(f"{scope}#{digest}#{start}")
    refused = RateLimited(
        f"too many attempts; try again in {_duration(retry_after)}",
        retryAfterSeconds=retry_after,
    )
    expires = datetime.fromtimestamp(start + window_seconds, UTC) + timedelta(hours=1)
    with storage_errors(on_condition_failed=refused):
        record.update(
            actions=[RateLimitRecord.hits.add(1), RateLimitRecord.expires_ttl.set(expires)],
            condition=RateLimitRecord.hits.does_not_exist() | (RateLimitRecord.hits < limit),
        )
    return int(record.hits)


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"
