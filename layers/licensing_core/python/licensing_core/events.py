"""Lifecycle events: what happened to licenses, seats, identities and claims, on EventBridge.

Every mutation writes its audit record in DynamoDB first (the source of truth), then
calls :func:`emit` so that integrators can react (provision a CRM account, send a
mail, bill usage) by subscribing a rule to the bus. Events are best-effort and sent
after the commit: :func:`emit` and :func:`publish` never raise into the caller, they
log a warning when EventBridge refuses or cannot be reached.

Envelope: ``source`` is ``licensing``, ``detail-type`` one of :class:`DetailType`,
``detail`` a JSON object with camelCase fields. The fields of each type are
documented in ``cdk/EVENTS.md``; they may gain fields, never lose or rename one.

The bus is named by the environment variable ``LICENSING_EVENT_BUS`` (the stack sets
it on the functions allowed to publish). Unset, as in tests and the local server,
publishing is a no-op with a debug log. Details never carry secrets: keys named like
tokens, secrets, passwords or client ids are dropped, and so is any string that looks
like a compact JWS/JWE, at any depth.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
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


def emit(detail_type: str, detail: Mapping[str, Any], *, source: str = SOURCE) -> None:
    """Publish one event on the lifecycle bus; never raises (see the module docstring)."""
    publish([Event(detail_type, detail, source)])


def publish(events: Iterable[Event]) -> int:
    """Publish events in batches of ten; return how many EventBridge accepted.

    Never raises: a refused or malformed event is logged and skipped, and entries that
    EventBridge fails (throttling, internal errors) are retried once.
    """
    try:
        pending = list(events)
        if not pending:
            return 0
        bus = bus_name()
        if bus is None:
            logger.debug("%s is not set: %d event(s) not published", BUS_ENV, len(pending))
            return 0
        entries = [entry for event in pending if (entry := _entry(event, bus)) is not None]
        return sum(
            _put(entries[start : start + MAX_ENTRIES_PER_CALL])
            for start in range(0, len(entries), MAX_ENTRIES_PER_CALL)
        )
    except Exception:
        logger.warning("lifecycle events not published", exc_info=True)
        return 0


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


def _put(entries: list[dict[str, str]]) -> int:
    """Send one batch (at most ten entries), retrying failed entries once."""
    client = aws.client("events")
    published = 0
    for attempt in (1, 2):
        try:
            response = client.put_events(Entries=entries)
        except Exception:
            logger.warning(
                "PutEvents failed: %d event(s) not published",
                len(entries),
                extra={"detailTypes": sorted({entry["DetailType"] for entry in entries})},
                exc_info=True,
            )
            return published
        failed = [
            (entry, result)
            for entry, result in zip(entries, response.get("Entries", []), strict=False)
            if result.get("ErrorCode")
        ]
        published += len(entries) - len(failed)
        if not failed:
            return published
        if attempt == 2:
            for entry, result in failed:
                logger.warning(
                    "%s event not published: %s %s",
                    entry["DetailType"],
                    result.get("ErrorCode"),
                    result.get("ErrorMessage", ""),
                )
        entries = [entry for entry, _ in failed]
    return published
