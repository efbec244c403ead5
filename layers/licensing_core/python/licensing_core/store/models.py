"""The stored records. One table per aggregate; ``uniques`` guards unique values."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from licensing_core.store.base import StoredModel


class ProductRecord(StoredModel):
    logical_name = "products"

    class Meta:
        table_name = "products"
        billing_mode = "PAY_PER_REQUEST"

    product_id = UnicodeAttribute(hash_key=True)
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class UniqueRecord(StoredModel):
    """Claims a value that must be unique (``PRODUCT_CODE#rdn.identity``), written in
    the same transaction as the record that owns it."""

    logical_name = "uniques"

    class Meta:
        table_name = "uniques"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()


#: Every stored model; CDK and the local server create one table for each.
ALL_MODELS: tuple[type[StoredModel], ...] = (ProductRecord, UniqueRecord)
