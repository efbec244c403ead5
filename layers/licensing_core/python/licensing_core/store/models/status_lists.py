"""Status lists: the bits that revoke machine files, and their allocation counter."""

from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    NumberAttribute,
    UnicodeAttribute,
)

from licensing_core.store.base import StoredModel


class StatusChunk(StoredModel):
    """One fixed-size chunk of a status list's bits (``domain/status_lists.py``), changed
    by conditional writes on ``version``; chunk ``HEAD`` (-1) holds no bits, only the
    list's version, raised with every change of its bits (the list's ETag)."""

    logical_name = "status_lists"
    HEAD = -1

    class Meta:
        table_name = "status_lists"
        billing_mode = "PAY_PER_REQUEST"

    list_id = UnicodeAttribute(hash_key=True)
    chunk = NumberAttribute(range_key=True)
    bits = BinaryAttribute(null=True, legacy_encoding=False)
    version = NumberAttribute(default=0)


class StatusCounter(StoredModel):
    """The number of status list entries ever allocated (one atomic ``ADD`` each)."""

    logical_name = "status_lists"

    class Meta:
        table_name = "status_lists"
        billing_mode = "PAY_PER_REQUEST"

    list_id = UnicodeAttribute(hash_key=True)  # "counter"
    chunk = NumberAttribute(range_key=True)  # 0
    allocated = NumberAttribute(default=0)
