"""The audit table is the outbox: consumers of its DynamoDB stream do everything downstream.

A stream consumer is a function over a batch of committed audit records that answers
which of them it could not handle; :func:`consume` turns a Lambda DynamoDB-stream event
into that batch and the answer into Lambda's partial batch response
(``ReportBatchItemFailures``): the stream is retried from the first failed record, so
nothing after a failure is skipped, and records before it are not handled again. A
second subscriber of the stream (statistics, say) is one more function built on
:func:`consume`, not a change to the publisher.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from licensing_core import events, telemetry
from licensing_core.store.models import AuditRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Committed:
    """One audit record as the stream delivered it."""

    sequence_number: str
    audit: AuditRecord


Consumer = Callable[[Sequence[Committed]], Collection[str]]
"""Handles a batch; returns the sequence numbers of the records it could not handle."""


def consume(event: Mapping[str, Any], consumer: Consumer) -> dict[str, Any]:
    """Run ``consumer`` over a stream event's new audit records; the partial batch
    response names the first failed record (Lambda retries from there)."""
    return batch_response(consumer(list(committed(event.get("Records") or ()))))


def batch_response(failed: Collection[str]) -> dict[str, Any]:
    """Lambda's partial batch response: retry from the first failed sequence number."""
    if not failed:
        return {"batchItemFailures": []}
    first = min(failed, key=int)
    return {"batchItemFailures": [{"itemIdentifier": first}]}


def committed(records: Iterable[Mapping[str, Any]]) -> Iterable[Committed]:
    """The audit records a stream batch inserted (audit records are never changed; a
    removal by TTL is no event)."""
    for record in records:
        change = record.get("dynamodb") or {}
        if record.get("eventName") != "INSERT" or "NewImage" not in change:
            continue
        yield Committed(
            str(change["SequenceNumber"]), AuditRecord.from_raw_data(change["NewImage"])
        )


#: What an audit record's subject is, by the aggregate its action names (``license.*``).
SUBJECT_IDS = {
    "license": "licenseId",
    "activation": "licenseId",
    "seat": "licenseId",
    "quota": "licenseId",
    "identity": "customerId",
    "tenant": "tenantId",
    "claim": "claimId",
}

#: Audit actions that are also counted as business metrics.
METRICS_BY_ACTION = {
    "activation.created": telemetry.Metric.ACTIVATIONS,
    "license.revoked": telemetry.Metric.REVOCATIONS,
    "seat.limit_reached": telemetry.Metric.SEAT_LIMIT_REJECTIONS,
    "quota.exceeded": telemetry.Metric.QUOTA_EXCEEDED,
}


def event_id(audit: AuditRecord) -> str:
    """The same id on every delivery of one audit record: what consumers deduplicate on."""
    digest = hashlib.sha256(f"{audit.subject_id}\n{audit.event_key}".encode()).hexdigest()
    return f"evt_{digest[:32]}"


def event_of(audit: AuditRecord) -> events.Event | None:
    """The lifecycle event an audit record stands for; None for records that are not."""
    if audit.action not in events.DETAIL_TYPES:
        return None
    return events.Event(
        audit.action,
        {
            "eventId": event_id(audit),
            SUBJECT_IDS.get(audit.action.split(".")[0], "subjectId"): audit.subject_id,
            "actor": audit.actor,
            "reason": audit.reason,
            "at": audit.at.isoformat(),
            **audit.details,
        },
    )


def publish(batch: Sequence[Committed]) -> set[str]:
    """Put every record of ``batch`` that is a lifecycle event on the bus; the sequence
    numbers of those EventBridge did not take. Counts the business metrics of the batch."""
    bus = events.bus_name()
    pending = [(item.sequence_number, event) for item in batch if (event := event_of(item.audit))]
    failed: set[str] = set()
    if bus is None:
        logger.debug("%s is not set: %d event(s) not published", events.BUS_ENV, len(pending))
    elif pending:
        positions = events.put([event for _, event in pending], bus)
        failed = {pending[position][0] for position in positions}
    retried_from = min((int(number) for number in failed), default=None)
    for item in batch:  # the records from the first failure on come again: counted then
        metric = METRICS_BY_ACTION.get(item.audit.action)
        if metric is not None and (
            retried_from is None or int(item.sequence_number) < retried_from
        ):
            telemetry.count(metric)
    return failed
