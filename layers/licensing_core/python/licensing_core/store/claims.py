"""Repository functions of self-service registration: pending license claims, the
rate-limit counters that guard registration, and binding an identity to its subject.

Every claim change is one transaction: the write, conditional on the state it leaves,
and its audit record. A failed condition raises
:class:`~licensing_core.store.errors.ConcurrentChange`: the caller reads again and decides.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from licensing_core.domain.errors import TooManyRequests
from licensing_core.store.errors import storage_errors
from licensing_core.store.models import (
    AuditRecord,
    CustomerRecord,
    PendingLicenseClaim,
    RateLimitRecord,
    UniqueRecord,
)
from licensing_core.store.transaction import Transaction

# Claims


def claims_of(email: str) -> list[PendingLicenseClaim]:
    """Every claim of an email address (one per product), strongly consistent."""
    with storage_errors():
        return list(PendingLicenseClaim.query(email, consistent_read=True))


def get_claim(email: str, product_id: str) -> PendingLicenseClaim | None:
    with storage_errors():
        try:
            return PendingLicenseClaim.get(email, product_id, consistent_read=True)
        except PendingLicenseClaim.DoesNotExist:
            return None


def put_claim(
    record: PendingLicenseClaim, replaces: PendingLicenseClaim | None, audit: AuditRecord
) -> None:
    """Store a new claim, or replace ``replaces`` only if it is still as it was read."""
    if replaces is None:
        condition = PendingLicenseClaim.email.does_not_exist()
    else:
        condition = (PendingLicenseClaim.claim_id == replaces.claim_id) & (
            PendingLicenseClaim.status == replaces.status
        )
    transaction = Transaction()
    transaction.save(record, condition=condition)
    transaction.save(audit)
    transaction.run()


def update_claim(
    record: PendingLicenseClaim,
    actions: Sequence[Action],
    condition: Condition,
    audit: AuditRecord | None = None,
) -> None:
    """Apply ``actions`` if ``condition`` holds (with the audit record, atomically)."""
    transaction = Transaction()
    transaction.update(record, actions, condition)
    if audit is not None:
        transaction.save(audit)
    transaction.run()


def pending_past_expiry(
    now: datetime, limit: int, start: dict[str, Any] | None
) -> tuple[list[PendingLicenseClaim], dict[str, Any] | None]:
    """A page of pending claims whose expiry is ``now`` or earlier (the status index:
    eventually consistent, so only a hint for conditional writes), and where to go on."""
    with storage_errors():
        results = PendingLicenseClaim.by_status.query(
            "pending",
            PendingLicenseClaim.expires_at <= now,
            limit=limit,
            page_size=limit,
            last_evaluated_key=start,
        )
        items = list(results)
        return items, results.last_evaluated_key


# Identities


def unique_owner(key: str) -> str | None:
    """Who holds a unique value (``SUBJECT#...``, ``EMAIL#<tenant>#...``), if anyone."""
    with storage_errors():
        try:
            return str(UniqueRecord.get(key, consistent_read=True).owner)
        except UniqueRecord.DoesNotExist:
            return None


def bind_subject(customer: CustomerRecord, subject: str, at: datetime) -> None:
    """Give an identity without one its identity-provider subject, claiming the subject in
    the same transaction (which fails if either happened meanwhile)."""
    transaction = Transaction()
    transaction.update(
        customer,
        [CustomerRecord.subject.set(subject), CustomerRecord.updated_at.set(at)],
        CustomerRecord.subject.does_not_exist() & (CustomerRecord.status == customer.status),
    )
    transaction.save(
        UniqueRecord(f"SUBJECT#{subject}", owner=customer.customer_id),
        condition=UniqueRecord.key.does_not_exist(),
    )
    transaction.run()
    customer.subject, customer.updated_at = subject, at


# Rate limits


class RateLimited(TooManyRequests):
    code = "RATE_LIMITED"
    title = "Rate limited"


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
