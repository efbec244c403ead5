"""Identifiers and the clock: the two sources of non-determinism, each in one place."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

#: Prefixes of the catalog's ids. No product or tier code begins with one followed by
#: ``_`` (in any case): a reference that does is an id, any other is a code.
PRODUCT_ID_PREFIX, TIER_ID_PREFIX = "prd", "tier"
CATALOG_ID_STARTS = tuple(f"{prefix}_" for prefix in (PRODUCT_ID_PREFIX, TIER_ID_PREFIX))


def new_id(prefix: str) -> str:
    """A prefixed, unguessable identifier (96 random bits), e.g. ``prd_3f9c...``."""
    return f"{prefix}_{secrets.token_hex(12)}"


def is_catalog_id(reference: str) -> bool:
    """Whether a product or tier reference is an id (else it is a code)."""
    return reference.lower().startswith(CATALOG_ID_STARTS)


def _system_now() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _system_now


def utcnow() -> datetime:
    """The current time, timezone-aware; tests replace the clock with :func:`set_clock`."""
    return _now()


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Install a clock (tests); ``None`` restores the system clock."""
    global _now
    _now = clock or _system_now
