"""Usage counters: a report is one transaction of the counter's conditional update and
a receipt for its idempotency key, so concurrent reports never exceed the quota and a
retried key counts once; the counter item stays the same size however many reports
it counts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from licensing_core.domain.errors import IdempotencyKeyReused, QuotaExceeded
from licensing_core.store.errors import storage_errors
from licensing_core.store.models import UsageReceipt, UsageRecord
from licensing_core.store.transaction import Transaction

#: Counters and receipts are kept this long after their period ends (TTL; never read
#: for quotas): the usage history (``GET /customers/{customerId}/usage?periods=13``)
#: reaches 13 months back.
RETENTION_SECONDS = 400 * 86400


class _Counted(Exception):
    """This idempotency key was counted before."""


class _OverQuota(Exception):
    """The report does not fit what remains of the quota."""


@dataclass(frozen=True)
class Counter:
    license_id: str
    product_id: str
    customer_id: str
    tenant_id: str
    meter: str
    period: str
    period_ends_at: datetime
    limit: int

    @property
    def key(self) -> str:
        return f"{self.license_id}#{self.meter}"


def add(counter: Counter, quantity: int, idempotency_key: str) -> tuple[int, bool]:
    """Count ``quantity`` if it fits the limit: ``(used after, replayed)``. A replay
    answers what the first report answered (or the current count, if the first is still
    finishing); the key reused for another meter or quantity of the license is refused."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    receipt = UsageReceipt(
        f"{counter.license_id}#receipt#{digest}",
        counter.period,
        meter=counter.meter,
        quantity=quantity,
        expires_ttl=_expiry(counter),
    )
    transaction = Transaction()
    transaction.save(receipt, UsageReceipt.counter_key.does_not_exist(), meaning=_Counted())
    transaction.update(
        UsageRecord(counter.key, counter.period),
        [
            UsageRecord.used.add(quantity),
            UsageRecord.limit.set(counter.limit),
            UsageRecord.usage_key.set(f"{counter.period}#{counter.license_id}#{counter.meter}"),
            UsageRecord.customer_id.set(counter.customer_id),
            UsageRecord.tenant_id.set(counter.tenant_id),
            UsageRecord.license_id.set(counter.license_id),
            UsageRecord.product_id.set(counter.product_id),
            UsageRecord.meter.set(counter.meter),
            UsageRecord.period_ends_at.set(counter.period_ends_at),
            UsageRecord.expires_ttl.set(_expiry(counter)),
        ],
        UsageRecord.used.does_not_exist() | (UsageRecord.used <= counter.limit - quantity),
        meaning=_OverQuota(),
    )
    try:
        if quantity > counter.limit:  # the condition lets a new counter start at any value
            raise _OverQuota
        transaction.run()
    except _Counted:
        first = _get(UsageReceipt, receipt.counter_key, counter.period)
        if first is not None and (first.meter, int(first.quantity)) != (counter.meter, quantity):
            raise IdempotencyKeyReused(
                "this idempotencyKey already counted another report "
                f"({first.meter}: {int(first.quantity)})"
            ) from None
        used = first.used if first is not None and first.used is not None else _used(counter)
        return int(used), True
    except _OverQuota:
        used = _used(counter)
        raise QuotaExceeded(
            f"{counter.meter}: {quantity} more would exceed the quota of {counter.limit}",
            meter=counter.meter,
            used=used,
            limit=counter.limit,
            remaining=max(counter.limit - used, 0),
        ) from None
    used = _used(counter)
    with storage_errors():  # what a replay of this key will answer
        receipt.update(actions=[UsageReceipt.used.set(used)])
    return used, False


def _expiry(counter: Counter) -> datetime:
    return datetime.fromtimestamp(
        counter.period_ends_at.timestamp() + RETENTION_SECONDS, counter.period_ends_at.tzinfo
    )


R = TypeVar("R", UsageReceipt, UsageRecord)


def _get(model: type[R], key: str, period: str) -> R | None:
    with storage_errors():
        try:
            return model.get(key, period, consistent_read=True)
        except model.DoesNotExist:
            return None


def _used(counter: Counter) -> int:
    record = _get(UsageRecord, counter.key, counter.period)
    return int(record.used) if record is not None else 0


def customer_counters(customer_id: str, since: str) -> list[UsageRecord]:
    """The identity's counters of the periods from ``since`` on (``2026-11``: that
    month's counter, its days' and every later one), newest first."""
    with storage_errors():
        return list(
            UsageRecord.by_customer.query(
                customer_id, UsageRecord.usage_key >= since, scan_index_forward=False
            )
        )
