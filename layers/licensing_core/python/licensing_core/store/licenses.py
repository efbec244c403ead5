"""Repository functions of license keys and their audit trail.

Every mutation is one transaction: the conditional write and its audit record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.models import Model, _ModelFuture
from pynamodb.transactions import TransactGet

from licensing_core.store import audit
from licensing_core.store.base import connection, get_record
from licensing_core.store.errors import storage_errors
from licensing_core.store.identities import NewIdentity, add_identity
from licensing_core.store.models import AuditRecord, CustomerRecord, LicenseRecord
from licensing_core.store.pages import page
from licensing_core.store.transaction import Transaction

M = TypeVar("M", bound=Model)


def license_fields(record: LicenseRecord) -> dict[str, Any]:
    """The ids every lifecycle event of a license carries (see ``cdk/EVENTS.md``)."""
    return {
        "productId": record.product_id,
        "tierId": record.tier_id,
        "customerId": record.customer_id,
        "tenantId": record.tenant_id,
    }


def issue(
    record: LicenseRecord, audit: AuditRecord, *, new_identity: NewIdentity | None = None
) -> None:
    """Store a new license with its audit record; with ``new_identity``, that identity
    (the license's holder) is created in the same transaction, or nothing is."""
    transaction = Transaction()
    if new_identity is not None:
        add_identity(transaction, new_identity)
    transaction.save(record, condition=LicenseRecord.license_id.does_not_exist())
    transaction.save(audit)
    transaction.run()


def reissue(record: LicenseRecord, seen_generation: int, audit: AuditRecord) -> None:
    """Record a key signed for ``record`` as it is now (generation, minimum generation,
    expiry, claims and digest), with its audit record, only if the license is still
    active at generation ``seen_generation`` (else :class:`ConcurrentChange`: a racing
    revoke or reissue wins)."""
    transaction = Transaction()
    transaction.update(
        record,
        [
            LicenseRecord.generation.set(record.generation),
            LicenseRecord.min_generation.set(record.min_generation),
            LicenseRecord.expires_at.set(record.expires_at),
            LicenseRecord.issued_claims.set(record.issued_claims),
            LicenseRecord.issued_token_sha256.set(record.issued_token_sha256),
            LicenseRecord.updated_at.set(record.updated_at),
            *record.search_actions(),
        ],
        (LicenseRecord.status == "active") & (LicenseRecord.generation == seen_generation),
    )
    transaction.save(audit)
    transaction.run()


@dataclass(frozen=True)
class Supersession:
    """Licenses revoked in the transaction that activates another license of their
    holder and product (``by``): at most one active key per customer and product."""

    licenses: Sequence[LicenseRecord]
    by: str
    actor: str
    at: datetime


def supersede(transaction: Transaction, revoke: Supersession) -> None:
    """Add the revocations of ``revoke`` to ``transaction``, each with its audit record."""
    for sibling in revoke.licenses:
        change_status(
            sibling,
            to="revoked",
            action="license.revoked",
            actor=revoke.actor,
            reason=f"superseded by activation of {revoke.by}",
            at=revoke.at,
            superseded_by=revoke.by,
            transaction=transaction,
        )


def change_status(
    record: LicenseRecord,
    *,
    to: str,
    action: str,
    actor: str,
    reason: str | None,
    at: datetime,
    superseded_by: str | None = None,
    transaction: Transaction | None = None,
) -> None:
    """Move ``record`` from its current status to ``to`` (only if it still has that
    status, else :class:`ConcurrentChange`), with its audit record; ``record`` reflects
    the change. ``superseded_by``: the license whose activation revokes this one. In
    ``transaction`` when given (the store's own functions that revoke with another
    write), else at once."""
    writes = transaction or Transaction()
    previous = record.status
    record.status, record.status_reason = to, reason
    record.status_changed_by, record.status_changed_at, record.updated_at = actor, at, at
    supersession = []
    if superseded_by is not None:
        record.superseded_by = superseded_by
        supersession = [LicenseRecord.superseded_by.set(superseded_by)]
    writes.update(
        record,
        [
            LicenseRecord.status.set(to),
            LicenseRecord.status_reason.set(reason)
            if reason
            else LicenseRecord.status_reason.remove(),
            LicenseRecord.status_changed_by.set(actor),
            LicenseRecord.status_changed_at.set(at),
            LicenseRecord.updated_at.set(at),
            *supersession,
            *record.search_actions(),
        ],
        LicenseRecord.status == previous,
    )
    writes.save(
        audit.entry(
            record.license_id,
            action,
            actor,
            reason=reason,
            at=at,
            details={"from": previous, "to": to, **license_fields(record)},
        )
    )
    if transaction is None:
        writes.run()


def get_license(license_id: str, *, tenant: str | None = None) -> LicenseRecord:
    return get_record(
        LicenseRecord, license_id, code="LICENSE_NOT_FOUND", what="license", tenant=tenant
    )


def license_and_customer(
    license_id: str, customer_id: str
) -> tuple[LicenseRecord | None, CustomerRecord | None]:
    """Both records in one consistent round trip (validation's only read)."""
    with storage_errors(), TransactGet(connection=connection()) as transaction:
        license_future = transaction.get(LicenseRecord, license_id)
        customer_future = transaction.get(CustomerRecord, customer_id)
    return found(license_future, LicenseRecord), found(customer_future, CustomerRecord)


def found(future: _ModelFuture[M], model: type[M]) -> M | None:
    """The record a ``TransactGet`` read, or None."""
    try:
        return future.get()
    except model.DoesNotExist:
        return None


def page_customer_licenses(
    customer_id: str, limit: int, cursor: str | None
) -> tuple[list[LicenseRecord], str | None]:
    return page(
        lambda start: LicenseRecord.by_customer.query(
            customer_id, limit=limit, page_size=limit, last_evaluated_key=start
        ),
        {"customer_id", "license_id"},
        cursor,
    )


def history(
    subject_id: str, limit: int, cursor: str | None
) -> tuple[list[AuditRecord], str | None]:
    """A subject's audit records, newest first."""
    return page(
        lambda start: AuditRecord.query(
            subject_id,
            limit=limit,
            page_size=limit,
            scan_index_forward=False,
            last_evaluated_key=start,
        ),
        {"subject_id", "event_key"},
        cursor,
    )
