"""JSON with one spelling per document: an object naming a member twice is refused.

Parsers disagree on duplicates (most keep the last, some the first), so a body or token
that repeats a member can mean two things to two readers (RFC 8259 section 4, RFC 7515
section 5.2, RFC 8725 section 3.12). Every body and token we parse goes through here.
"""

from __future__ import annotations

import json
from typing import Any


class DuplicateMember(ValueError):
    """A JSON object names a member twice."""


def loads(document: str | bytes) -> Any:
    """``json.loads``, refusing duplicate members (a ``ValueError``, like a syntax error)."""
    return json.loads(document, object_pairs_hook=_unique_members)


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for name, value in pairs:
        if name in members:
            raise DuplicateMember(f"the member {name[:64]!r} appears more than once")
        members[name] = value
    return members
