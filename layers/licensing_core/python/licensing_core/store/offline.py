"""Repository functions of offline use: a machine file holding an activation's seat, and
the nonces of offline activation requests (each accepted once)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from licensing_core.store.activations import renew
from licensing_core.store.catalog import Unique
from licensing_core.store.errors import storage_errors
from licensing_core.store.models import ActivationRecord, AuditRecord, UniqueRecord


def _nonce_key(license_id: str, nonce: str) -> str:
    return f"OFFLINE_NONCE#{license_id}#{hashlib.sha256(nonce.encode()).hexdigest()}"


def nonce_seen(license_id: str, nonce: str) -> bool:
    """Whether an offline activation request of this license used ``nonce`` already."""
    with storage_errors():
        try:
            UniqueRecord.get(_nonce_key(license_id, nonce), consistent_read=True)
        except UniqueRecord.DoesNotExist:
            return False
    return True


def nonce_claim(license_id: str, nonce: str, owner: str, seen: Exception) -> Unique:
    """The claim of an offline request's ``nonce``, to commit with the activation it
    brings (``seen``: raised if it was used already)."""
    return Unique(_nonce_key(license_id, nonce), owner, seen)


def hold(
    record: ActivationRecord,
    *,
    until: datetime,
    mode: str,
    entry: int,
    now: datetime,
    alive_since: datetime,
    audit: AuditRecord,
) -> None:
    """Let a machine file hold ``record``'s seat until ``until`` (it counts as a
    heartbeat), only while the activation is alive and still has the status entry it was
    read with, and its license and identity are usable; ``Stale`` otherwise (a revoke
    racing a checkout wins)."""
    renew(
        record,
        now=now,
        alive_since=alive_since,
        also=[
            ActivationRecord.offline_until.set(until),
            ActivationRecord.offline_mode.set(mode),
            ActivationRecord.status_entry.set(entry),
        ],
        provided=ActivationRecord.status_entry.does_not_exist()
        if record.status_entry is None
        else ActivationRecord.status_entry == record.status_entry,
        audit=audit,
    )
