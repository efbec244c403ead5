"""Usage counters: one conditional update per report, so concurrent reports never
exceed the quota and a retried idempotency key counts once.

The update also stores the counter's value after the report under an attribute named
for the idempotency key, so a replay answers with the first result. PynamoDB cannot
express that dynamic attribute, so this one path speaks to DynamoDB directly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from licensing_core.aws import client
from licensing_core.domain.errors import TooManyRequests, Unavailable
from licensing_core.settings import get_settings
from licensing_core.store.errors import RETRYABLE_CODES, storage_errors
from licensing_core.store.models import UsageRecord

#: Counters are kept this long after their period ends (TTL; never read for quotas).
RETENTION_SECONDS = 400 * 86400


class QuotaExceeded(TooManyRequests):
    code = "QUOTA_EXCEEDED"
    title = "Quota exceeded"


@dataclass(frozen=True)
class Counter:
    license_id: str
    customer_id: str
    tenant_id: str
    meter: str
    period: str
    period_ends_at: datetime
    limit: int


def add(counter: Counter, quantity: int, idempotency_key: str) -> tuple[int, bool]:
    """Count ``quantity`` if it fits the limit: ``(used after, replayed)``."""
    marker = "idem_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    number = lambda n: {"N": str(n)}  # noqa: E731
    try:
        response = client("dynamodb").update_item(
            TableName=get_settings().table_name(UsageRecord.logical_name),
            Key={
                "counter_key": {"S": f"{counter.license_id}#{counter.meter}"},
                "period": {"S": counter.period},
            },
            UpdateExpression=(
                "SET #used = if_not_exists(#used, :zero) + :q, #marker = if_not_exists(#used, :zero) + :q,"
                " #limit = :limit, usage_key = :usage_key, customer_id = :customer,"
                " tenant_id = :tenant, license_id = :license, #meter = :meter,"
                " period_ends_at = :ends, expires_ttl = :ttl"
            ),
            ConditionExpression=(
                "attribute_not_exists(#marker) AND (attribute_not_exists(#used) OR #used <= :room)"
            ),
            ExpressionAttributeNames={
                "#used": "used",
                "#marker": marker,
                "#limit": "limit",
                "#meter": "meter",
            },
            ExpressionAttributeValues={
                ":zero": number(0),
                ":q": number(quantity),
                ":room": number(counter.limit - quantity),
                ":limit": number(counter.limit),
                ":usage_key": {"S": f"{counter.period}#{counter.license_id}#{counter.meter}"},
                ":customer": {"S": counter.customer_id},
                ":tenant": {"S": counter.tenant_id},
                ":license": {"S": counter.license_id},
                ":meter": {"S": counter.meter},
                ":ends": {"S": UsageRecord.period_ends_at.serialize(counter.period_ends_at)},
                ":ttl": number(int(counter.period_ends_at.timestamp()) + RETENTION_SECONDS),
            },
            ReturnValues="UPDATED_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in RETRYABLE_CODES:
            raise Unavailable("storage is busy; retry shortly", retryAfterSeconds=1) from error
        if code != "ConditionalCheckFailedException":
            raise
        old: dict[str, Any] = error.response.get("Item") or {}  # type: ignore[assignment]
        if marker in old:
            return int(old[marker]["N"]), True
        used = int(old.get("used", {}).get("N", "0"))
        raise QuotaExceeded(
            f"{counter.meter}: {quantity} more would exceed the quota of {counter.limit}",
            meter=counter.meter,
            used=used,
            limit=counter.limit,
            remaining=max(counter.limit - used, 0),
        ) from error
    return int(response["Attributes"]["used"]["N"]), False


def customer_counters(customer_id: str) -> list[UsageRecord]:
    with storage_errors():
        return list(UsageRecord.by_customer.query(customer_id, scan_index_forward=False))
