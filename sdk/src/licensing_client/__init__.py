"""Client SDK of the licensing service: verify license keys offline, activate this
machine, keep its token alive with heartbeats, gate features (with step-up), report
metered usage, and run without network on a machine file (``client.machine_files``).

>>> client = LicensingClient("https://licensing.example.com", product="Rdn.Identity")
>>> license = client.resume() or client.activate(key_token)          # doctest: +SKIP
>>> with client.start_heartbeats(on_revoked=lambda e: print(e.code)):  # doctest: +SKIP
...     if client.has("sso"):
...         client.report_usage("api_calls", 1)
"""

from licensing_client.client import Activation, LicensingClient
from licensing_client.clock import ClockGuard
from licensing_client.errors import (
    ActivationRefused,
    ClockTampered,
    ConfigurationError,
    DeactivationRefused,
    FeatureNotLicensed,
    HeartbeatRefused,
    IdempotencyKeyReused,
    InvalidToken,
    LicenseExpired,
    LicenseRevoked,
    LicensingError,
    NetworkError,
    NotLicensed,
    QuotaExceeded,
    RequestRefused,
    StepUpRequired,
    UsageRefused,
)
from licensing_client.heartbeat import AsyncHeartbeats, HeartbeatLoop, HeartbeatSchedule
from licensing_client.jose import KeySet
from licensing_client.license import DEFAULT_ACR_LEVELS, AcrLevels, License
from licensing_client.offline import MachineFiles, StatusList
from licensing_client.retry import RetryPolicy
from licensing_client.usage import UsageResult

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_ACR_LEVELS",
    "AcrLevels",
    "Activation",
    "ActivationRefused",
    "AsyncHeartbeats",
    "ClockGuard",
    "ClockTampered",
    "ConfigurationError",
    "DeactivationRefused",
    "FeatureNotLicensed",
    "HeartbeatLoop",
    "HeartbeatRefused",
    "HeartbeatSchedule",
    "IdempotencyKeyReused",
    "InvalidToken",
    "KeySet",
    "License",
    "LicenseExpired",
    "LicenseRevoked",
    "LicensingClient",
    "LicensingError",
    "MachineFiles",
    "NetworkError",
    "NotLicensed",
    "QuotaExceeded",
    "RequestRefused",
    "RetryPolicy",
    "StatusList",
    "StepUpRequired",
    "UsageRefused",
    "UsageResult",
    "__version__",
]
