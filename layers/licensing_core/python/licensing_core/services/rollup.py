"""The statistics rollup: what stream records add to the daily series and the standing
counts (``services/stats.py`` reads them).

Two stream consumers feed it, and nothing on a request's path writes for it: the audit
table's stream (activations, deactivations, reclaimed seats, licenses issued, revoked,
suspended and reinstated) and the usage table's (each counter's increase, by meter).
Each record becomes a :class:`Fact`: counts on rows of its four scopes (everything, its
product, its tenant, its product in its tenant). Facts are counted exactly once however
often the stream delivers them: a transaction writes a marker per record with the
counts, and a record whose marker exists is dropped from the transaction and never
counted again. Records are counted in chunks (one transaction each, at most 100 items),
so a batch of 100 activations of one product costs two transactions, not a hundred.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from licensing_core.domain.errors import ConcurrentChange, DomainError
from licensing_core.outbox import Committed, batch_response, event_id
from licensing_core.store import stats as store
from licensing_core.store.models import AuditRecord, UsageRecord

#: How long the day rows are kept: ``GET /stats`` reads no older day.
RETENTION_DAYS = 400
#: Day rows go by TTL some days after the retention (no read ever reaches them).
_EXPIRY_MARGIN = timedelta(days=7)
#: Attempts at a chunk whose records were partly counted before (a redelivery).
_ATTEMPTS = 3

#: What an audit action counts on its day's row.
DAY_COUNTS: Mapping[str, Mapping[str, int]] = {
    "activation.created": {"activations": 1, "machines": 1},
    "activation.deactivated": {"deactivations": 1, "machines": -1},
    "activation.reclaimed": {"reclaimed": 1},
    "license.issued": {"issued": 1},
    "license.revoked": {"revoked": 1},
    "license.suspended": {"suspended": 1},
}
LICENSE_STATUSES = ("active", "suspended", "revoked")

Counts = dict[store.Row, Counter[str]]


@dataclass(frozen=True)
class Fact:
    """What one stream record adds: counter amounts by row."""

    #: The record's id, the same on every delivery: it is counted at most once.
    record: str
    counts: Counts


def scopes(product_id: str, tenant_id: str | None) -> tuple[str, ...]:
    """The four scopes a record of ``product_id`` in ``tenant_id`` counts in."""
    return tuple(
        store.scope_key(product, tenant)
        for product in (None, product_id)
        for tenant in (None, tenant_id)
    )


def day_expiry(day: date) -> datetime:
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return end + timedelta(days=RETENTION_DAYS) + _EXPIRY_MARGIN


def _spread(
    product_id: str,
    tenant_id: str | None,
    rows: Mapping[str, Mapping[str, int]],
    expires_at: datetime | None = None,
) -> Counts:
    """``rows`` (row key -> amounts) in each of the four scopes."""
    return {
        store.Row(scope, key, expires_at): Counter(amounts)
        for scope in scopes(product_id, tenant_id)
        for key, amounts in rows.items()
        if amounts
    }


def audit_fact(audit: AuditRecord) -> Fact | None:
    """What an audit record counts; None for one that counts nothing."""
    details = audit.details or {}
    product_id = details.get("productId")
    if not isinstance(product_id, str):
        return None
    tenant_id = details.get("tenantId")
    day = audit.at.astimezone(UTC).date()
    daily = dict(DAY_COUNTS.get(audit.action, {}))
    counts = _spread(product_id, tenant_id, {day.isoformat(): daily}, day_expiry(day))
    standing: dict[str, dict[str, int]] = {}
    if daily.get("machines"):
        standing[store.ALL_TIME] = {"machines": daily["machines"]}
    tier_id = details.get("tierId")
    if isinstance(tier_id, str) and audit.action.startswith("license."):
        licenses = _status_change(audit.action, details)
        if licenses:
            standing[store.tier_row(product_id, tier_id)] = licenses
    counts.update(_spread(product_id, tenant_id, standing))
    return Fact(event_id(audit), counts) if counts else None


def _status_change(action: str, details: Mapping[str, Any]) -> dict[str, int]:
    """How a license record changes the licenses-by-status of its tier."""
    if action == "license.issued":
        return {"licenses_active": 1}
    before, after = details.get("from"), details.get("to")
    if before == after or before not in LICENSE_STATUSES or after not in LICENSE_STATUSES:
        return {}
    return {f"licenses_{before}": -1, f"licenses_{after}": 1}


def usage_fact(change: Mapping[str, Any]) -> Fact | None:
    """What a change of the usage table counts (a counter's increase, on the day the
    stream recorded it); None for anything else (receipts, expiries)."""
    images = change.get("dynamodb") or {}
    new = images.get("NewImage") or {}
    if change.get("eventName") not in ("INSERT", "MODIFY") or "usage_key" not in new:
        return None
    counter = UsageRecord.from_raw_data(new)
    before = UsageRecord.from_raw_data(images["OldImage"]).used if "OldImage" in images else 0
    increase = int(counter.used) - int(before)
    if increase <= 0 or counter.product_id is None:
        return None
    day = _stream_time(images["ApproximateCreationDateTime"]).date()
    key = f"{counter.counter_key}\n{counter.period}\n{int(counter.used)}"
    return Fact(
        f"use_{hashlib.sha256(key.encode()).hexdigest()[:32]}",
        _spread(
            counter.product_id,
            counter.tenant_id,
            {store.usage_row(day.isoformat(), counter.meter): {"quantity": increase}},
            day_expiry(day),
        ),
    )


def _stream_time(value: Any) -> datetime:
    """A stream record's creation time: epoch seconds in Lambda's events, a datetime
    where the local stream hands its records over directly."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


def count_audit(batch: Sequence[Committed]) -> set[str]:
    """The audit stream's consumer: the sequence numbers it could not count."""
    return count([(item.sequence_number, audit_fact(item.audit)) for item in batch])


def count_usage(event: Mapping[str, Any]) -> dict[str, Any]:
    """The usage stream's consumer: Lambda's partial batch response for ``event``."""
    records = event.get("Records") or ()
    return batch_response(
        count([(str(r["dynamodb"]["SequenceNumber"]), usage_fact(r)) for r in records])
    )


def count(batch: Sequence[tuple[str, Fact | None]]) -> set[str]:
    """Count each record's fact once, chunk by chunk; on a storage failure, the sequence
    numbers from the failed chunk on (the stream retries them; counted ones are known)."""
    pending = [(sequence, fact) for sequence, fact in batch if fact is not None]
    for start, chunk in _chunks([fact for _, fact in pending]):
        try:
            _count_once(chunk)
        except DomainError:  # throttled, contended: retried from here
            return {sequence for sequence, _ in pending[start:]}
    return set()


def _chunks(facts: Sequence[Fact]) -> Iterator[tuple[int, list[Fact]]]:
    """Consecutive facts that fit one transaction: a marker each, and the rows they
    raise (shared rows once); a record already in the chunk is not added twice."""
    chunk: list[Fact] = []
    rows: set[store.Row] = set()
    start = 0
    for position, fact in enumerate(facts):
        if any(fact.record == other.record for other in chunk):
            continue
        joined = rows | fact.counts.keys()
        if chunk and len(chunk) + 1 + len(joined) > store.MAX_ITEMS:
            yield start, chunk
            chunk, joined, start = [], set(fact.counts), position
        chunk.append(fact)
        rows = joined
    if chunk:
        yield start, chunk


def _count_once(chunk: list[Fact]) -> None:
    """One transaction for the chunk's records not counted yet."""
    for _ in range(_ATTEMPTS):
        if not chunk:
            return
        try:
            store.add([f.record for f in chunk], shard_of(chunk[0].record), merged(chunk))
            return
        except store.AlreadyCounted:  # a redelivery: count only what was not
            seen = store.counted(f.record for f in chunk)
            chunk = [f for f in chunk if f.record not in seen]
    raise ConcurrentChange("stream records were counted meanwhile; retry")


def merged(facts: Sequence[Fact]) -> Counts:
    """The facts' amounts added up by row, rows that add nothing left out."""
    total: Counts = {}
    for fact in facts:
        for row, amounts in fact.counts.items():
            total.setdefault(row, Counter()).update(amounts)
    kept = {row: Counter({k: v for k, v in amounts.items() if v}) for row, amounts in total.items()}
    return {row: amounts for row, amounts in kept.items() if amounts}


def shard_of(record: str) -> int:
    """The shard a chunk's rows go to, by its first record: spread evenly, so no
    partition of a busy product takes more than its share."""
    return int(hashlib.sha256(record.encode()).hexdigest()[:8], 16) % store.SHARDS
