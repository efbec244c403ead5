"""Unique values (codes, emails, machines) guarded by conditional puts."""

from __future__ import annotations

from pynamodb.attributes import (
    UnicodeAttribute,
)

from licensing_core.store.base import StoredModel


class UniqueRecord(StoredModel):
    """Claims a value that must be unique (``PRODUCT_CODE#rdn.identity``), written in
    the same transaction as the record that owns it."""

    logical_name = "uniques"

    class Meta:
        table_name = "uniques"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
