"""licensing_core: the shared layer of the licensing service.

Dependencies point downward only: functions -> http -> services -> store | tokens |
identity -> domain, with shared helpers (settings, aws, telemetry, jose, strict_json)
below. The import contracts in pyproject.toml (``[tool.importlinter]``) say where every
module sits; ``make lint`` checks them (``lint-imports``).
"""

from licensing_core import telemetry as _telemetry

__version__ = "0.1.0"
_telemetry.collect_rarely_during_init()  # before the imports of any function's INIT
