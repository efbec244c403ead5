"""Audit records written on their own: what was refused, not changed (a seat limit
reached, a quota exceeded). Records of changes are written in the change's transaction."""

from __future__ import annotations

from licensing_core.store.errors import storage_errors
from licensing_core.store.models import AuditRecord


def append(record: AuditRecord) -> None:
    """Write one audit record (its key is unique: time and randomness)."""
    with storage_errors():
        record.save(condition=AuditRecord.subject_id.does_not_exist())
