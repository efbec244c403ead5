"""The audit table's stream -> the statistics rollup (counted once per record)."""

from typing import Any

from licensing_core import outbox, telemetry
from licensing_core.services import rollup


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with telemetry.flushing(context):
        return outbox.consume(event, rollup.count_audit)
