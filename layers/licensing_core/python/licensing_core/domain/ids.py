"""Identifiers and the clock: the two sources of non-determinism, each in one place."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime


def new_id(prefix: str) -> str:
    """A prefixed, unguessable identifier (96 random bits), e.g. ``prd_3f9c...``."""
    return f"{prefix}_{secrets.token_hex(12)}"


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
