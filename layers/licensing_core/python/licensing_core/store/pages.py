"""Opaque pagination cursors over DynamoDB's ``LastEvaluatedKey``."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from licensing_core.domain.errors import InvalidRequest
from licensing_core.tokens.jose import TokenError, b64url_decode, b64url_encode


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return b64url_encode(json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode())


def decode_cursor(cursor: str | None, key_names: Collection[str]) -> dict[str, Any] | None:
    """The start key a cursor stands for; a cursor whose keys are not exactly ``key_names``
    (the table's and the index's string keys) is refused."""
    if cursor is None:
        return None
    try:
        key = json.loads(b64url_decode(cursor))
    except (TokenError, UnicodeDecodeError, json.JSONDecodeError):
        key = None
    if (
        not isinstance(key, dict)
        or set(key) != set(key_names)
        or not all(
            isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str)
            for v in key.values()
        )
    ):
        raise InvalidRequest("the cursor is not valid for this listing", code="INVALID_CURSOR")
    return key
