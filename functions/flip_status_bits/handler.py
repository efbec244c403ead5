"""The audit table's stream -> the status list bits of machine files."""

from typing import Any

from licensing_core import outbox, telemetry
from licensing_core.services import status_lists


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with telemetry.flushing(context):
        return outbox.consume(event, status_lists.flip)
