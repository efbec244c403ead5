"""Repository functions of license keys and their audit trail.

Every mutation is one transaction: the conditional write and its audit record.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model, _ModelFuture
from pynamodb.transactions import TransactGet

from licensing_core.domain.ids import utcnow
from licensing_core.store.base import connection, get_record
from licensing_core.store.errors import storage_errors
from licensing_core.store.models import AuditRecord, CustomerRecord, LicenseRecord
from licensing_core.store.pages import page
from licensing_core.store.transaction import Transaction

M = TypeVar("M", bound=Model)


def audit_entry(
    subject_id: str,
    action: str,
    actor: str,
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditRecord:
    moment = at or utcnow()
    return AuditRecord(
        subject_id,
        f"{moment.isoformat()}#{secrets.token_hex(4)}",
        action=action,
        actor=actor,
        reason=reason,
        details=details or {},
        at=moment,
    )


def license_fields(record: LicenseRecord) -> dict[str, Any]:
    """The ids every lifecycle event of a license carries (see ``cdk/EVENTS.md``)."""
    return {
        "productId": record.product_id,
        "tierId": record.tier_id,
        "customerId": record.customer_id,
        "tenantId": record.tenant_id,
    }


def insert_license(
    record: LicenseRecord, audit: AuditRecord, transaction: Transaction | None = None
) -> None:
    """Store a new license with its audit record: in ``transaction`` when given (the
    caller runs it), else at once."""
    writes = transaction or Transaction()
    writes.save(record, condition=LicenseRecord.license_id.does_not_exist())
    writes.save(audit)
    if transaction is None:
        writes.run()


def update_license(
    record: LicenseRecord, actions: Sequence[Action], condition: Condition, audit: AuditRecord
) -> None:
    """Apply ``actions`` if ``condition`` holds, with the audit record, atomically;
    :class:`ConcurrentChange` when the condition no longer holds. ``record`` holds the
    fields as changed: its search keys follow them."""
    transaction = Transaction()
    transaction.update(record, [*actions, *record.search_actions()], condition)
    transaction.save(audit)
    transaction.run()


def change_status(
    transaction: Transaction,
    record: LicenseRecord,
    *,
    to: str,
    action: str,
    actor: str,
    reason: str | None,
    at: datetime,
    superseded_by: str | None = None,
) -> None:
    """Add to ``transaction`` moving ``record`` from its current status to ``to`` (only if
    it still has that status), with its audit record; ``record`` reflects the change.
    ``superseded_by``: the license whose activation revokes this one."""
    previous = record.status
    record.status, record.status_reason = to, reason
    record.status_changed_by, record.status_changed_at, record.updated_at = actor, at, at
    supersession = []
    if superseded_by is not None:
        record.superseded_by = superseded_by
        supersession = [LicenseRecord.superseded_by.set(superseded_by)]
    transaction.update(
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
    transaction.save(
        audit_entry(
            record.license_id,
            action,
            actor,
            reason=reason,
            at=at,
            details={"from": previous, "to": to, **license_fields(record)},
        )
    )


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
