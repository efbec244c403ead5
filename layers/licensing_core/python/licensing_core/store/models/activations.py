"""Activations: a machine holding a seat of a license."""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from licensing_core.store.base import StoredModel


class ActivationRecord(StoredModel):
    """A machine holding a seat of a license. Keyed by license, so the activations of a
    license are one strongly consistent query; never expired by TTL (a deleted item
    would leak its seat)."""

    logical_name = "activations"

    class Meta:
        table_name = "activations"
        billing_mode = "PAY_PER_REQUEST"

    license_id = UnicodeAttribute(hash_key=True)
    #: SHA-256 of the clientId: the secret itself is never stored.
    activation_id = UnicodeAttribute(range_key=True)
    customer_id = UnicodeAttribute()
    machine_id = UnicodeAttribute()
    public_key = JSONAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    #: What the machine says of itself at activation (``schemas.ActivateRequest``).
    hostname = UnicodeAttribute(null=True)
    platform = UnicodeAttribute(null=True)
    app_version = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    ttl_seconds = NumberAttribute()
    activated_at = UTCDateTimeAttribute()
    last_heartbeat_at = UTCDateTimeAttribute()
    heartbeats = NumberAttribute(default=0)
    #: ``active``, or ``reclaimed``: a tombstone kept so the dead machine learns why.
    status = UnicodeAttribute(default="active")
    #: Set on tombstones only; TTL deleting a tombstone never touches a seat.
    expires_ttl = TTLAttribute(null=True)
    #: Offline use (``services/offline.py``): the seat is held, heartbeats or not, until
    #: the last machine file ends; how the files came (checkout, offline, borrow); the
    #: status list entry every file of this activation carries (``domain/status_lists``).
    offline_until = UTCDateTimeAttribute(null=True)
    offline_mode = UnicodeAttribute(null=True)
    status_entry = NumberAttribute(null=True)
