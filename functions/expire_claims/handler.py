"""Scheduled job (``routes.JOBS``, an EventBridge rule, hourly by default): mark pending
license claims past their expiry ``expired``. Idempotent; never an HTTP route."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger
from licensing_core import telemetry
from licensing_core.services import registration

logger = Logger(service="licensing")


def handler(event: Any, context: Any) -> dict[str, Any]:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    with telemetry.flushing(context):
        report = registration.expire_claims(
            time_left=(lambda: remaining() / 1000) if callable(remaining) else None
        )
    logger.info("expired pending license claims", extra=asdict(report))
    return asdict(report)
