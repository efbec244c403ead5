"""The audit trail (and, through its stream, the outbox of lifecycle events)."""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from licensing_core.store.base import StoredModel


class AuditRecord(StoredModel):
    """Who did what to a record, when and why; written in the mutation's transaction.
    Its table's stream is the outbox of lifecycle events (``licensing_core.outbox``)."""

    logical_name = "audit"

    class Meta:
        table_name = "audit"
        billing_mode = "PAY_PER_REQUEST"
        #: The outbox: every committed audit record reaches the stream's consumers.
        stream_view_type = "NEW_IMAGE"

    subject_id = UnicodeAttribute(hash_key=True)
    #: ``<ISO time>#<random>``: records of a subject sort by time.
    event_key = UnicodeAttribute(range_key=True)
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    details = JSONAttribute(default=dict)
    at = UTCDateTimeAttribute()
