"""The base every stored model shares: tables bound lazily from the settings.

A model names its table logically (``Meta.logical_name``); the physical name,
region and endpoint come from :func:`licensing_core.settings.get_settings` on the
first call that needs a connection, never at import time.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.connection import Connection, TableConnection
from pynamodb.models import Model

from licensing_core.settings import Settings, get_settings, on_reset


class StoredModel(Model):
    """A PynamoDB model whose table is configured at first use."""

    logical_name: ClassVar[str]

    @classmethod
    def bind(cls, settings: Settings) -> None:
        cls.Meta.table_name = settings.table_name(cls.logical_name)
        cls.Meta.region = settings.region
        cls.Meta.host = settings.aws_endpoint_url

    @classmethod
    def _get_connection(cls) -> TableConnection:
        cls.bind(get_settings())
        connection: TableConnection = super()._get_connection()
        return connection

    @classmethod
    def unbind(cls) -> None:
        """Drop the cached connection of this model and of every model built on it."""
        cls._connection = None
        for subclass in cls.__subclasses__():
            subclass.unbind()


on_reset(StoredModel.unbind)


def connection() -> Connection:
    """A connection for transactions that span tables."""
    settings = get_settings()
    return Connection(region=settings.region, host=settings.aws_endpoint_url)


def create_missing_tables(models: tuple[type[StoredModel], ...]) -> None:
    """Create the tables of ``models`` that do not exist yet (local server and tests)."""
    for model in models:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)


def table_schema(model: type[StoredModel]) -> dict[str, Any]:
    """Key schema, attribute definitions and indexes of a model, as CreateTable wants them."""
    return dict(model._get_schema())
