"""Activation rules: client ids, token lifetimes, dead seats."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from licensing_core.domain.errors import NotFound

#: Printable ASCII without spaces: UUIDs, hashes, hostnames all fit.
MACHINE_ID = re.compile(r"^[\x21-\x7e]{1,256}$")


def new_client_id(license_id: str) -> str:
    """``<licenseId>.<192 random bits>``: the machine's heartbeat credential."""
    return f"{license_id}.{secrets.token_urlsafe(24)}"


def parse_client_id(client_id: str) -> tuple[str, str]:
    """``(license_id, activation_id)`` of a client id; the activation id is its SHA-256,
    so the stored record never holds the secret."""
    license_id, dot, secret = client_id.partition(".")
    if not dot or not license_id or len(secret) < 22:
        raise NotFound("unknown clientId", code="UNKNOWN_CLIENT")
    return license_id, activation_id_of(client_id)


def activation_id_of(client_id: str) -> str:
    return hashlib.sha256(client_id.encode()).hexdigest()[:40]


def is_dead(
    last_heartbeat_at: datetime,
    ttl_seconds: int,
    now: datetime,
    held_until: datetime | None = None,
) -> bool:
    """A machine silent for longer than its token lifetime holds a dead seat, unless a
    machine file holds the seat until ``held_until`` (``services/offline.py``)."""
    if held_until is not None and now <= held_until:
        return False
    return now - last_heartbeat_at > timedelta(seconds=ttl_seconds)


def machine_claims(
    key_claims: Mapping[str, Any], *, client_id: str, machine_id: str, now: int, ttl_seconds: int
) -> dict[str, Any]:
    """A machine token's claims: the license's, plus who holds it, with a short life."""
    return {
        **key_claims,
        "iat": now,
        "nbf": now,
        "exp": min(now + ttl_seconds, int(key_claims["exp"])),
        "cid": client_id,
        "machineId": machine_id,
    }
