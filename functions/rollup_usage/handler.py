"""The usage table's stream -> each meter's daily usage in the statistics rollup."""

from typing import Any

from licensing_core import telemetry
from licensing_core.services import rollup


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with telemetry.flushing(context):
        return rollup.count_usage(event)
