"""Repository functions of self-service registration's pending license claims.

Every claim change is one transaction: the write, conditional on the state it leaves,
and its audit record. A failed condition raises
:class:`~licensing_core.domain.errors.ConcurrentChange`: the caller reads again and decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from licensing_core.store.errors import storage_errors
from licensing_core.store.models import AuditRecord, PendingLicenseClaim
from licensing_core.store.transaction import Transaction


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


def take(claim: PendingLicenseClaim, *, attempt: str, customer_id: str, at: datetime) -> None:
    """Lease ``claim`` to ``attempt`` for ``customer_id``, only if it is still as it was
    read: the same pending claim, unexpired at ``at``, or the same lapsed lease taken
    over (the caller judged it lapsed)."""
    if claim.status == "claiming":
        unchanged = (PendingLicenseClaim.status == "claiming") & (
            PendingLicenseClaim.attempt == claim.attempt
        )
    else:
        unchanged = (
            (PendingLicenseClaim.status == "pending")
            & (PendingLicenseClaim.claim_id == claim.claim_id)
            & (PendingLicenseClaim.expires_at > at)
        )
    _update(
        claim,
        [
            PendingLicenseClaim.status.set("claiming"),
            PendingLicenseClaim.attempt.set(attempt),
            PendingLicenseClaim.claiming_at.set(at),
            PendingLicenseClaim.customer_id.set(customer_id),
            PendingLicenseClaim.updated_at.set(at),
        ],
        unchanged,
    )


def fulfil(
    claim: PendingLicenseClaim, *, attempt: str, license_id: str, at: datetime, audit: AuditRecord
) -> None:
    """Mark the claim fulfilled by ``license_id``, while ``attempt`` still holds its lease."""
    _update(
        claim,
        [
            PendingLicenseClaim.status.set("fulfilled"),
            PendingLicenseClaim.license_id.set(license_id),
            PendingLicenseClaim.fulfilled_at.set(at),
            PendingLicenseClaim.updated_at.set(at),
        ],
        PendingLicenseClaim.attempt == attempt,
        audit,
    )


def release(claim: PendingLicenseClaim, *, attempt: str, at: datetime, audit: AuditRecord) -> None:
    """Make the claim pending again, while ``attempt`` still holds its lease."""
    _update(
        claim,
        [
            PendingLicenseClaim.status.set("pending"),
            PendingLicenseClaim.attempt.remove(),
            PendingLicenseClaim.claiming_at.remove(),
            PendingLicenseClaim.updated_at.set(at),
        ],
        PendingLicenseClaim.attempt == attempt,
        audit,
    )


def expire(claim: PendingLicenseClaim, *, at: datetime, audit: AuditRecord) -> None:
    """Mark the claim expired, only if it is still that pending claim, past its expiry
    at ``at``."""
    _update(
        claim,
        [PendingLicenseClaim.status.set("expired"), PendingLicenseClaim.updated_at.set(at)],
        (PendingLicenseClaim.status == "pending")
        & (PendingLicenseClaim.claim_id == claim.claim_id)
        & (PendingLicenseClaim.expires_at <= at),
        audit,
    )


def _update(
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
