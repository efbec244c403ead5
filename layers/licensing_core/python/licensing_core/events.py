"""Lifecycle events: what happened to licenses, seats, identities and claims, on EventBridge.

The audit table is the outbox. A request commits its records and its audit record in one
transaction and returns; ``functions/publish_events`` reads the audit table's stream and
puts each audit record that is a lifecycle event on the bus (:mod:`licensing_core.outbox`),
so an event is delivered at least once for every committed change, and never for one
that did not commit. No request function publishes.

Envelope: ``source`` is ``licensing``, ``detail-type`` one of :class:`DetailType`,
``detail`` a JSON object with camelCase fields, among them ``eventId`` (derived from the
audit record: the same on every redelivery, so consumers deduplicate on it). The fields
of each type are documented in ``cdk/EVENTS.md``; they may gain fields, never lose or
rename one.

The bus is named by the environment variable ``LICENSING_EVENT_BUS`` (the stack sets it
on the publisher only). Details never carry secrets: keys named like tokens, secrets,
passwords or client ids are dropped, and so is any string that looks like a compact
JWS/JWE, at any depth.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from licensing_core import aws

BUS_ENV = "LICENSING_EVENT_BUS"
SOURCE = "licensing"
#: PutEvents takes at most 10 entries per call, and 256 KiB per entry.
MAX_ENTRIES_PER_CALL = 10
MAX_ENTRY_BYTES = 256 * 1024

logger = logging.getLogger(__name__)


class DetailType(StrEnum):
    """Every ``detail-type`` the service emits (the schema is in ``cdk/EVENTS.md``)."""

    LICENSE_ISSUED = "license.issued"
    LICENSE_REVOKED = "license.revoked"
    LICENSE_SUSPENDED = "license.suspended"
    LICENSE_REINSTATED = "license.reinstated"
    LICENSE_RENEWED = "license.renewed"
    LICENSE_REGENERATED = "license.regenerated"
    ACTIVATION_CREATED = "activation.created"
    ACTIVATION_DEACTIVATED = "activation.deactivated"
    ACTIVATION_RECLAIMED = "activation.reclaimed"
    SEAT_LIMIT_REACHED = "seat.limit_reached"
    QUOTA_EXCEEDED = "quota.exceeded"
    IDENTITY_CREATED = "identity.created"
    IDENTITY_DEACTIVATED = "identity.deactivated"
    IDENTITY_REACTIVATED = "identity.reactivated"
    TENANT_CREATED = "tenant.created"
    CLAIM_CREATED = "claim.created"
    CLAIM_FULFILLED = "claim.fulfilled"
    CLAIM_EXPIRED = "claim.expired"


DETAIL_TYPES: tuple[str, ...] = tuple(member.value for member in DetailType)

#: A key whose name (lower-cased, without ``_`` and ``-``) contains one of these never
#: leaves the process: ``token``, ``keyToken``, ``clientId``, ``client_secret``...
_SECRET_KEY = re.compile(
    r"token|secret|password|passphrase|credential|privatekey|apikey|authorization|clientid"
)
#: A compact JWS (three parts) or JWE (five parts) whose header is a JSON object.
_COMPACT_JOSE = re.compile(r"^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Event:
    """One lifecycle event: a ``detail-type`` from :class:`DetailType` and its detail."""

    detail_type: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    source: str = SOURCE


def put(events: Sequence[Event], bus: str) -> set[int]:
    """Put ``events`` on ``bus`` in batches of ten; return the positions of those that
    EventBridge did not take (throttled, failed, or their call raised), to be retried.
    An event that can never be sent (unknown type, not JSON, over 256 KiB) is logged and
    dropped: retrying it would only block the events behind it."""
    entries = [(position, _entry(event, bus)) for position, event in enumerate(events)]
    sendable = [(position, entry) for position, entry in entries if entry is not None]
    failed: set[int] = set()
    client = aws.client("events")
    for start in range(0, len(sendable), MAX_ENTRIES_PER_CALL):
        batch = sendable[start : start + MAX_ENTRIES_PER_CALL]
        try:
            response = client.put_events(Entries=[entry for _, entry in batch])
        except Exception:
            logger.warning("PutEvents failed: %d event(s) to retry", len(batch), exc_info=True)
            failed.update(position for position, _ in batch)
            continue
        results = response.get("Entries", [])
        for index, (position, entry) in enumerate(batch):
            result = results[index] if index < len(results) else {"ErrorCode": "NoResult"}
            if result.get("ErrorCode"):
                logger.warning(
                    "%s event to retry: %s %s",
                    entry["DetailType"],
                    result.get("ErrorCode"),
                    result.get("ErrorMessage", ""),
                )
                failed.add(position)
    return failed


def bus_name() -> str | None:
    """The bus named by ``LICENSING_EVENT_BUS``; None when events are off."""
    return os.environ.get(BUS_ENV, "").strip() or None


def redact(value: Any) -> Any:
    """``value`` as plain JSON data, without secret-named keys or token-like strings."""
    if isinstance(value, Mapping):
        return {
            str(key): redact(item)
            for key, item in value.items()
            if not _SECRET_KEY.search(re.sub(r"[_\-\s]", "", str(key)).lower())
            and not _is_token(item)
        }
    if hasattr(value, "model_dump"):  # a pydantic model: its JSON (camelCase) form
        return redact(value.model_dump(mode="json", by_alias=True))
    if isinstance(value, set | frozenset):
        return [redact(item) for item in sorted(value, key=str) if not _is_token(item)]
    if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        return [redact(item) for item in value if not _is_token(item)]
    return _scalar(value)


def _is_token(value: Any) -> bool:
    return isinstance(value, str) and _COMPACT_JOSE.match(value) is not None


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _scalar(value.value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _entry(event: Event, bus: str) -> dict[str, str] | None:
    """The PutEvents entry of an event, or None (logged) when it cannot be sent."""
    if event.detail_type not in DETAIL_TYPES:
        logger.warning("unknown detail-type %r: event not published", event.detail_type)
        return None
    try:
        detail = json.dumps(redact(event.detail), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        logger.warning("%s event not published: %s", event.detail_type, error)
        return None
    entry = {
        "Source": event.source,
        "DetailType": event.detail_type,
        "Detail": detail,
        "EventBusName": bus,
    }
    if sum(len(value.encode()) for value in entry.values()) > MAX_ENTRY_BYTES:
        logger.warning("%s event not published: over 256 KiB", event.detail_type)
        return None
    return entry
