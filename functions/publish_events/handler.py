"""The audit table's stream -> lifecycle events on the bus (the transactional outbox)."""

from typing import Any

from licensing_core import outbox, telemetry


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with telemetry.flushing(context):
        return outbox.consume(event, outbox.publish)
