"""Offline licensing rules: machine files, offline activation requests and proofs.

Every format is a JOSE token with a ``typ`` of its own, never accepted where another
is expected: a machine file is not a license key nor a machine token, a request is not
a proof. A machine file is valid for the tier's ``OfflinePolicy``, never beyond its
license, and holds its seat until it expires or a proof signed by the machine's key
returns it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from licensing_core.domain.errors import (
    OfflineNotAllowed,
    TtlAbovePolicy,
)
from licensing_core.domain.policies import OfflinePolicy

MACHINE_FILE_TYPE = "machine-file+jwt"
ACTIVATION_REQUEST_TYPE = "activation-request+jwt"
DEACTIVATION_PROOF_TYPE = "deactivation-proof+jwt"
RETURN_PROOF_TYPE = "return-proof+jwt"

#: How a machine file came to be (its ``mode`` claim and the activation's).
Mode = Literal["checkout", "offline", "borrow"]

#: An offline activation request older than this is refused (carrying it to a machine
#: with connectivity may take days, not months); one from the future by more than the
#: leeway too.
MAX_REQUEST_AGE_SECONDS = 7 * 86_400


def file_ttl(policy: OfflinePolicy, requested: int | None) -> int:
    """The lifetime of a machine file: ``requested`` or the default, within ``policy``."""
    if not policy.allowed:
        raise OfflineNotAllowed("this license's tier does not allow offline machine files")
    ttl = policy.default_ttl_seconds if requested is None else requested
    if ttl > policy.max_ttl_seconds:
        raise TtlAbovePolicy(
            f"ttlSeconds {ttl} is above the tier's maximum of {policy.max_ttl_seconds}",
            maxTtlSeconds=policy.max_ttl_seconds,
        )
    return ttl


def borrow_seconds(policy: OfflinePolicy, requested: int) -> int:
    """How long a seat may be borrowed for: ``requested``, within ``policy``."""
    if not policy.allowed or not policy.max_borrow_seconds:
        raise OfflineNotAllowed("this license's tier does not allow borrowing seats")
    if requested > policy.max_borrow_seconds:
        raise TtlAbovePolicy(
            f"seconds {requested} is above the tier's maximum borrow of "
            f"{policy.max_borrow_seconds}",
            maxBorrowSeconds=policy.max_borrow_seconds,
        )
    return requested


def file_expiry(now: int, ttl_seconds: int, license_expires_at: int) -> int:
    """When a machine file issued at ``now`` ends: never after its license."""
    return min(now + ttl_seconds, license_expires_at)


def file_claims(
    key_claims: Mapping[str, Any],
    *,
    activation_id: str,
    machine_id: str,
    mode: Mode,
    now: int,
    expires_at: int,
    status: Mapping[str, Any],
) -> dict[str, Any]:
    """A machine file's claims: the license's, the machine's, and its status entry. No
    client id: a file is copied around, a heartbeat credential must not be."""
    return {
        **key_claims,
        "iat": now,
        "nbf": now,
        "exp": expires_at,
        "machineId": machine_id,
        "activationId": activation_id,
        "mode": mode,
        "status": dict(status),
    }


def held_until(current: datetime | None, until: datetime) -> datetime:
    """How long an activation's seat is held once a file valid until ``until`` exists."""
    return until if current is None or current < until else current


#: The audit detail that names the status entry whose files end with the record.
STATUS_ENTRY_DETAIL = "statusEntry"
#: What an activation keeps when the same machine renews it online: its files still
#: hold the seat and carry the same status entry.
KEPT_ON_RENEWAL = ("offline_until", "offline_mode", "status_entry")


def status_details(entry: float | None) -> dict[str, int]:
    """The audit detail naming the status entry whose files end with this record (the
    status bits consumer sets it: ``services/status_lists.py``)."""
    return {} if entry is None else {STATUS_ENTRY_DETAIL: int(entry)}
