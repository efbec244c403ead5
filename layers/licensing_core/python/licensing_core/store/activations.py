"""Repository functions of activations: every seat change is one transaction with the
license's seat counter, so no interleaving can exceed ``maxUsers``. Seat counts never
depend on TTL deletion or an index read."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactGet

from licensing_core.store.base import connection
from licensing_core.store.catalog import Unique, claim
from licensing_core.store.errors import storage_errors
from licensing_core.store.licenses import Supersession, found, supersede
from licensing_core.store.models import (
    ActivationRecord,
    AuditRecord,
    CustomerRecord,
    LicenseRecord,
    UniqueRecord,
)
from licensing_core.store.transaction import Transaction

#: How long a reclaimed activation's tombstone is kept.
TOMBSTONE_DAYS = 30


class MachineTaken(Exception):
    """Another activation of the same machine won the race."""


class NoSeat(Exception):
    """The license had no free seat (or stopped being active) at the moment of writing."""


class Stale(Exception):
    """A record changed between read and write (revived, reclaimed, revoked...)."""


def machine_key(license_id: str, machine_id: str) -> str:
    return f"MACHINE#{license_id}#{hashlib.sha256(machine_id.encode()).hexdigest()}"


def find_machine(license_id: str, machine_id: str) -> ActivationRecord | None:
    """The activation of this machine on this license, if any (consistent reads)."""
    with storage_errors():
        try:
            owner = UniqueRecord.get(
                machine_key(license_id, machine_id), consistent_read=True
            ).owner
            return ActivationRecord.get(license_id, owner, consistent_read=True)
        except (UniqueRecord.DoesNotExist, ActivationRecord.DoesNotExist):
            return None


def get_activation(license_id: str, activation_id: str) -> ActivationRecord | None:
    with storage_errors():
        try:
            return ActivationRecord.get(license_id, activation_id, consistent_read=True)
        except ActivationRecord.DoesNotExist:
            return None


def find_activation(license_ids: Sequence[str], activation_id: str) -> ActivationRecord | None:
    """The activation ``activation_id`` of one of ``license_ids``, if any (consistent
    reads: one BatchGetItem per 100 licenses)."""
    with storage_errors():
        keys = [(license_id, activation_id) for license_id in license_ids]
        return next(iter(ActivationRecord.batch_get(keys, consistent_read=True)), None)


def activation_and_license(
    license_id: str, activation_id: str
) -> tuple[ActivationRecord | None, LicenseRecord | None]:
    """An activation and its license in one consistent round trip (the heartbeat's read)."""
    with storage_errors(), TransactGet(connection=connection()) as transaction:
        activation = transaction.get(ActivationRecord, license_id, activation_id)
        license = transaction.get(LicenseRecord, license_id)
    return found(activation, ActivationRecord), found(license, LicenseRecord)


def license_activations(license_id: str) -> list[ActivationRecord]:
    """The live activations of a license (tombstones left out)."""
    with storage_errors():
        return [
            record
            for record in ActivationRecord.query(license_id, consistent_read=True)
            if record.status == "active"
        ]


def _claim_machine(transaction: Transaction, record: ActivationRecord) -> None:
    transaction.save(record, condition=ActivationRecord.activation_id.does_not_exist())
    transaction.save(
        UniqueRecord(machine_key(record.license_id, record.machine_id), owner=record.activation_id),
        condition=UniqueRecord.key.does_not_exist(),
        meaning=MachineTaken(),
    )


def _with_seat(transaction: Transaction, revoke: Supersession | None, nonce: Unique | None) -> None:
    """Add what commits with a seat change: the sibling licenses it revokes, the nonce of
    the offline request it answers."""
    if revoke is not None:
        supersede(transaction, revoke)
    if nonce is not None:
        claim(transaction, nonce.key, nonce.owner, nonce.taken)


def insert(
    record: ActivationRecord,
    license: LicenseRecord,
    max_users: int,
    audit: AuditRecord,
    *,
    revoke: Supersession | None = None,
    nonce: Unique | None = None,
) -> None:
    """Take a seat: the activation, its machine claim and the counter, the revocation of
    ``revoke``'s licenses and the claim of ``nonce``, or nothing. Raises
    :class:`MachineTaken` or :class:`NoSeat`."""
    transaction = Transaction()
    _with_seat(transaction, revoke, nonce)
    _claim_machine(transaction, record)
    transaction.save(audit)
    transaction.update(
        license,
        [LicenseRecord.active_seats.add(1)],
        (LicenseRecord.status == "active") & (LicenseRecord.active_seats < max_users),
        meaning=NoSeat(),
    )
    transaction.run()


def swap(
    old: ActivationRecord,
    record: ActivationRecord,
    audit: AuditRecord,
    *,
    revoke: Supersession | None = None,
    nonce: Unique | None = None,
) -> None:
    """Hand ``old``'s seat to ``record``; the seat count does not change. Only if ``old``
    has not heartbeated since it was read, else :class:`Stale`; with the revocation of
    ``revoke``'s licenses and the claim of ``nonce``.

    The same machine renewing its activation replaces it (its old client id stops
    working); another machine reclaiming a dead seat leaves a ``reclaimed`` tombstone,
    so the dead machine is told why at its next heartbeat.
    """
    unchanged = (ActivationRecord.last_heartbeat_at == old.last_heartbeat_at) & (
        ActivationRecord.status == "active"
    )
    transaction = Transaction()
    _with_seat(transaction, revoke, nonce)
    transaction.check(
        LicenseRecord, record.license_id, LicenseRecord.status == "active", meaning=NoSeat()
    )
    transaction.save(record, condition=ActivationRecord.activation_id.does_not_exist())
    transaction.save(audit)
    if old.machine_id == record.machine_id:
        transaction.delete(old, condition=unchanged, meaning=Stale())
        transaction.update(
            UniqueRecord(machine_key(old.license_id, old.machine_id), owner=old.activation_id),
            [UniqueRecord.owner.set(record.activation_id)],
            UniqueRecord.owner == old.activation_id,
            meaning=Stale(),
        )
    else:
        transaction.update(
            old,
            [
                ActivationRecord.status.set("reclaimed"),
                ActivationRecord.expires_ttl.set(audit.at + timedelta(days=TOMBSTONE_DAYS)),
            ],
            unchanged,
            meaning=Stale(),
        )
        transaction.delete(UniqueRecord(machine_key(old.license_id, old.machine_id)))
        transaction.save(
            UniqueRecord(
                machine_key(record.license_id, record.machine_id), owner=record.activation_id
            ),
            condition=UniqueRecord.key.does_not_exist(),
            meaning=MachineTaken(),
        )
    transaction.run()


def renew(
    record: ActivationRecord,
    *,
    now: datetime,
    alive_since: datetime,
    also: Sequence[Action] = (),
    provided: Condition | None = None,
    audit: AuditRecord | None = None,
) -> None:
    """Record a heartbeat (with the actions ``also``, the ``audit`` record, if ``provided``
    holds too: a machine file's hold), only while the activation is alive, the license
    active and unexpired, and the identity active (so a revocation racing it wins:
    :class:`Stale`)."""
    actions: list[Action] = [
        ActivationRecord.last_heartbeat_at.set(now),
        ActivationRecord.heartbeats.add(1),
        *also,
    ]
    transaction = Transaction()
    if audit is not None:
        transaction.save(audit)
    transaction.check(
        LicenseRecord,
        record.license_id,
        (LicenseRecord.status == "active") & (LicenseRecord.expires_at > now),
    )
    transaction.check(CustomerRecord, record.customer_id, CustomerRecord.status == "active")
    alive = (ActivationRecord.last_heartbeat_at >= alive_since) | (
        ActivationRecord.offline_until >= now  # a machine file holds the seat
    )
    condition = (ActivationRecord.status == "active") & alive
    transaction.update(record, actions, condition if provided is None else condition & provided)
    transaction.run(otherwise=Stale())


def remove(record: ActivationRecord, license: LicenseRecord, audit: AuditRecord) -> bool:
    """Free exactly one seat; False when the activation was already gone."""
    transaction = Transaction()
    transaction.delete(record, condition=ActivationRecord.status == "active", meaning=Stale())
    transaction.delete(UniqueRecord(machine_key(record.license_id, record.machine_id)))
    transaction.save(audit)
    transaction.update(
        license,
        [LicenseRecord.active_seats.add(-1)],
        LicenseRecord.active_seats > 0,
        meaning=Stale(),
    )
    try:
        transaction.run()
    except Stale:
        return False
    return True
