"""The base every stored model shares: tables bound lazily from the settings.

A model names its table logically (``Meta.logical_name``); the physical name,
region and endpoint come from :func:`licensing_core.settings.get_settings` on the
first call that needs a connection, never at import time.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pynamodb.connection import Connection, TableConnection
from pynamodb.models import Model

from licensing_core.domain.errors import NotFound
from licensing_core.settings import get_settings, per_settings
from licensing_core.store.errors import storage_errors


class StoredModel(Model):
    """A PynamoDB model whose table is configured at first use."""

    logical_name: ClassVar[str]
    _binding: ClassVar[tuple[str, str, str | None]]

    @classmethod
    def _get_connection(cls) -> TableConnection:
        """PynamoDB's connection, re-created only when the settings point elsewhere."""
        settings = get_settings()
        binding = (
            settings.table_name(cls.logical_name),
            settings.region,
            settings.aws_endpoint_url,
        )
        if cls.__dict__.get("_binding") != binding:
            cls.Meta.table_name, cls.Meta.region, cls.Meta.host = binding
            cls._connection = None
            cls._binding = binding
        connection: TableConnection = super()._get_connection()
        return connection


@per_settings
def connection() -> Connection:
    """The connection for transactions that span tables (one per settings)."""
    settings = get_settings()
    return Connection(region=settings.region, host=settings.aws_endpoint_url)


def create_missing_tables(models: tuple[type[StoredModel], ...]) -> list[str]:
    """Create the tables of ``models`` that do not exist yet, with TTL where a model has
    one (local server and tests); return the names created."""
    created = []
    for model in models:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
    return created


def table_schema(model: type[StoredModel]) -> dict[str, Any]:
    """Key schema, attribute definitions and indexes of a model, as CreateTable wants them."""
    return dict(model._get_schema())


M = TypeVar("M", bound=Model)


def get_record(model: type[M], key: str, *, code: str, what: str, tenant: str | None = None) -> M:
    """The record at ``key``; one of another tenant than ``tenant`` (when given) is as
    missing as one that does not exist: the error says nothing of its existence."""
    with storage_errors():
        try:
            record = model.get(key, consistent_read=True)
        except model.DoesNotExist:
            record = None
    if record is None or (tenant is not None and getattr(record, "tenant_id", None) != tenant):
        raise NotFound(f"no {what} {key}", code=code)
    return record
