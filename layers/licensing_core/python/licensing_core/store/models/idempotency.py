"""Remembered responses of idempotent requests (Powertools idempotency)."""

from __future__ import annotations

from pynamodb.attributes import (
    TTLAttribute,
    UnicodeAttribute,
)

from licensing_core.store.base import StoredModel


class IdempotencyRecord(StoredModel):
    """Written by Powertools idempotency (``http/idempotency.py``); declared here so the
    table is created like every other, with its TTL."""

    logical_name = "idempotency"

    class Meta:
        table_name = "idempotency"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)
