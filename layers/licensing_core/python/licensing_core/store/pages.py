"""Opaque pagination cursors over DynamoDB's ``LastEvaluatedKey``."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from pynamodb.models import Model
from pynamodb.pagination import ResultIterator

from licensing_core.domain.errors import InvalidRequest
from licensing_core.jose import TokenError, b64url_decode, b64url_encode
from licensing_core.store.errors import storage_errors

M = TypeVar("M", bound=Model)


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return b64url_encode(json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode())


def cursor_document(cursor: str) -> Any:
    """The JSON document a cursor encodes; None when it encodes none."""
    try:
        return json.loads(b64url_decode(cursor))
    except (TokenError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def decode_cursor(cursor: str | None, key_names: Collection[str]) -> dict[str, Any] | None:
    """The start key a cursor stands for; a cursor whose keys are not exactly ``key_names``
    (the table's and the index's string keys) is refused."""
    if cursor is None:
        return None
    key = cursor_document(cursor)
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


def page(
    run: Callable[[dict[str, Any] | None], ResultIterator[M]],
    key_names: Collection[str],
    cursor: str | None,
) -> tuple[list[M], str | None]:
    """One page of a query or scan: ``run(start_key)`` returns PynamoDB's iterator
    (already limited); the cursor of the next page comes back with the items."""
    with storage_errors():
        results = run(decode_cursor(cursor, key_names))
        items = list(results)
        return items, encode_cursor(results.last_evaluated_key)
