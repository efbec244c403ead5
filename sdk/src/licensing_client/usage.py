"""What the server answers to a usage report (``POST /usage``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from licensing_client.errors import NetworkError


@dataclass(frozen=True)
class UsageResult:
    """The meter after the report: ``used`` of ``limit`` (``remaining`` left) in the period
    ending at ``period_ends_at`` (UTC). ``replayed``: the idempotency key had been counted
    already (by an earlier attempt, or an earlier call with the same key), so nothing
    more was counted; ``idempotency_key`` is the key the report was made with."""

    meter: str
    used: int
    limit: int
    remaining: int
    period_ends_at: datetime
    replayed: bool
    idempotency_key: str

    @classmethod
    def of(cls, data: Mapping[str, Any], idempotency_key: str) -> UsageResult:
        """The result of a 2xx answer; :class:`NetworkError` ``INVALID_RESPONSE`` when
        it is not one."""
        meter, replayed, ends = data.get("meter"), data.get("replayed"), data.get("periodEndsAt")
        try:
            period_ends_at = datetime.fromisoformat(ends) if isinstance(ends, str) else None
        except ValueError:
            period_ends_at = None
        counts = [data.get(name) for name in ("used", "limit", "remaining")]
        if (
            isinstance(meter, str)
            and isinstance(replayed, bool)
            and period_ends_at is not None
            and period_ends_at.tzinfo is not None
        ):
            match counts:
                case [int(used), int(limit), int(remaining)] if bool not in map(type, counts):
                    return cls(
                        meter=meter,
                        used=used,
                        limit=limit,
                        remaining=remaining,
                        period_ends_at=period_ends_at.astimezone(UTC),
                        replayed=replayed,
                        idempotency_key=idempotency_key,
                    )
        raise NetworkError(
            "usage report: the answer is not a usage result", code="INVALID_RESPONSE"
        )
