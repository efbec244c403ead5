"""Statistics counters: sharded rows raised by ``ADD`` in one transaction with a marker
per stream record they count, so a record delivered twice is counted once.

A scope's counters are spread over :data:`SHARDS` partition keys (``<scope>|<shard>``),
each raised by whole transactions; readers sum the shards (``services/stats.py``). Only
this module knows the rows' keys and attributes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from licensing_core.domain.ids import utcnow
from licensing_core.store.errors import storage_errors
from licensing_core.store.models import StatsMarker, StatsRecord
from licensing_core.store.transaction import Transaction

#: Partition keys per scope: 1,000 counted records a second on one product stay far
#: under DynamoDB's 1,000 WCU per partition (README, "Statistics").
SHARDS = 16
#: A transaction holds at most 100 items (markers and counter rows).
MAX_ITEMS = 100
#: Markers outlive every redelivery: the stream keeps records 24 h, the mapping retries
#: for at most a day.
MARKER_LIFETIME = timedelta(days=7)
ALL_TIME = "all"
USAGE = "usage"
TIER = "tier"
#: What a day row counts (attributes of :class:`StatsRecord`); ``machines`` is the net
#: change of active machines that day.
DAY_COUNTERS = (
    "activations",
    "deactivations",
    "reclaimed",
    "issued",
    "revoked",
    "suspended",
    "machines",
)


class AlreadyCounted(Exception):
    """A record of the transaction has its marker: it was counted before."""


@dataclass(frozen=True)
class Row:
    """Which counter row: a scope (``<productId|*>|<tenantId|*>``) and a row key."""

    scope: str
    key: str
    #: When the row may go (day rows); None: kept (all-time and tier rows).
    expires_at: datetime | None = None


def usage_row(day: str, meter: str) -> str:
    return f"{day}#{USAGE}#{meter}"


def tier_row(product_id: str, tier_id: str) -> str:
    return f"{TIER}#{product_id}#{tier_id}"


def scope_key(product_id: str | None, tenant_id: str | None) -> str:
    return f"{product_id or '*'}|{tenant_id or '*'}"


def add(records: Sequence[str], shard: int, counts: Mapping[Row, Mapping[str, int]]) -> None:
    """Count ``records`` (their ids) once: each one's marker and every row's counts in one
    transaction. :class:`AlreadyCounted` when a marker exists (nothing is written)."""
    if len(records) + len(counts) > MAX_ITEMS:
        raise ValueError(f"{len(records)} records and {len(counts)} rows: too many items")
    transaction = Transaction()
    for record in records:
        transaction.save(
            _marker(record),
            StatsMarker.bucket.does_not_exist(),
            meaning=AlreadyCounted(record),
        )
    for row, amounts in counts.items():
        actions = [getattr(StatsRecord, name).add(value) for name, value in amounts.items()]
        if row.expires_at is not None:
            actions.append(StatsRecord.expires_ttl.set(row.expires_at))
        transaction.update(StatsRecord(f"{row.scope}|{shard:02d}", row.key), actions)
    transaction.run()


def counted(records: Iterable[str]) -> set[str]:
    """Which of ``records`` were counted (have their marker)."""
    wanted = {f"seen#{record}": record for record in records}
    with storage_errors():
        found = StatsMarker.batch_get([(bucket, "seen") for bucket in wanted], consistent_read=True)
        return {wanted[marker.bucket] for marker in found}


def _marker(record: str) -> StatsMarker:
    return StatsMarker(f"seen#{record}", "seen", expires_ttl=utcnow() + MARKER_LIFETIME)


@dataclass
class Totals:
    """A scope's rows, summed over its shards."""

    #: Day (``2026-11-23``) -> counter -> count.
    days: dict[str, Counter[str]] = field(default_factory=dict)
    #: Day -> meter -> quantity.
    usage: dict[str, Counter[str]] = field(default_factory=dict)
    #: Machines active now (the all-time row).
    machines: int = 0
    #: (productId, tierId) -> ``active``/``suspended``/``revoked`` -> licenses.
    tiers: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)


def activity(scope: str, since: str) -> Totals:
    """The day and usage rows of ``scope`` from day ``since`` on, and its machines now."""
    return _totals(scope, since, ALL_TIME)


def standing(scope: str) -> Totals:
    """The all-time and tier rows of ``scope``: machines and licenses now."""
    return _totals(scope, ALL_TIME, f"{TIER}$")  # "$" sorts right after "#"


def _totals(scope: str, first: str, last: str) -> Totals:
    totals = Totals()
    with storage_errors():
        for shard in range(SHARDS):
            for row in StatsRecord.query(
                f"{scope}|{shard:02d}", StatsRecord.row.between(first, last), consistent_read=True
            ):
                _add_row(totals, row)
    return totals


def _add_row(totals: Totals, row: StatsRecord) -> None:
    kind, _, rest = row.row.partition("#")
    if row.row == ALL_TIME:
        totals.machines += int(row.machines or 0)
    elif kind == TIER:
        product_id, _, tier_id = rest.partition("#")
        licenses = totals.tiers.setdefault((product_id, tier_id), Counter())
        for status in ("active", "suspended", "revoked"):
            licenses[status] += int(getattr(row, f"licenses_{status}") or 0)
    elif rest.startswith(f"{USAGE}#"):
        meter = rest.removeprefix(f"{USAGE}#")
        totals.usage.setdefault(kind, Counter())[meter] += int(row.quantity or 0)
    else:
        counts = totals.days.setdefault(kind, Counter())
        for name in DAY_COUNTERS:
            counts[name] += int(getattr(row, name) or 0)
