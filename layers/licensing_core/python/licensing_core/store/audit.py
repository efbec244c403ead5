"""The audit trail: every record of a change is made here (:func:`entry`) and written in
that change's transaction by its aggregate's store; what was refused, not changed (a
seat limit reached, a quota exceeded), is appended on its own (:func:`append`)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from licensing_core.domain.ids import utcnow
from licensing_core.store.errors import storage_errors
from licensing_core.store.models import AuditRecord


def append(record: AuditRecord) -> None:
    """Write one audit record (its key is unique: time and randomness)."""
    with storage_errors():
        record.save(condition=AuditRecord.subject_id.does_not_exist())


def entry(
    subject_id: str,
    action: str,
    actor: str,
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditRecord:
    """An audit record of ``subject_id`` (its key: the moment and randomness)."""
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
