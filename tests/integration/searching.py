"""What the search tests share: following every page of a search, and recording the
DynamoDB operations each page made."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.client import BaseClient

from local.aws import with_mfa
from tests.integration.conftest import CognitoPool
from tests.support import Response, invoke


class Calls:
    """The DynamoDB operations made while recording (every thread)."""

    def __init__(self) -> None:
        self.operations: list[str] = []
        self._lock = threading.Lock()

    def add(self, operation: str) -> None:
        with self._lock:
            self.operations.append(operation)

    def count(self, operation: str) -> int:
        return self.operations.count(operation)


@contextmanager
def recorded_calls() -> Iterator[Calls]:
    """Every DynamoDB operation made inside the block, by any thread."""
    recorded = Calls()
    original = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private to botocore

    def recording(client: BaseClient, operation: str, params: Any) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            recorded.add(operation)
        return original(client, operation, params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", recording)
        yield recorded


def search(
    token: str, filters: dict[str, str], *, limit: int, path: str = "/license-keys"
) -> tuple[list[dict[str, Any]], list[Calls]]:
    """Every item of a search, page by page, and the DynamoDB operations of each page."""
    items: list[dict[str, Any]] = []
    per_page: list[Calls] = []
    cursor = None
    for _ in range(200):
        query = {**filters, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        with recorded_calls() as page:
            answer = invoke("GET", path, token=token, query=query)
        assert answer.status == 200, (filters, answer.text)
        per_page.append(page)
        items += answer.json["items"]
        cursor = answer.json["nextCursor"]
        if cursor is None:
            return items, per_page
    raise AssertionError(f"{filters}: no last page after 200")


def pages_written_between(
    call: Callable[..., Response],
    path: str,
    filters: dict[str, str],
    write: Callable[[list[str], list[str]], None],
    *,
    key: str,
    size: int = 2,
) -> list[str]:
    """The ``key`` of every item of every page of a search, in order, calling
    ``write(page, seen)`` between each page and the next."""
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        query = {**filters, "limit": str(size), **({"cursor": cursor} if cursor else {})}
        answer = call("GET", path, query=query)
        assert answer.status == 200, answer.text
        page = [item[key] for item in answer.json["items"]]
        seen += page
        cursor = answer.json["nextCursor"]
        if cursor is None:
            return seen
        write(page, seen)
    raise AssertionError(f"{path} {filters}: no last page after 50")


def tenant_admin(aws: CognitoPool, tenant_id: str) -> str:
    return with_mfa(
        aws.id_token(f"admin-{tenant_id}@example.com", "tenant-admins", tenant=tenant_id)
    )
