"""Client SDK of the licensing service: verify license keys offline, activate this
machine, keep its token alive with heartbeats, and gate features (with step-up).

>>> client = LicensingClient("https://licensing.example.com", product="Rdn.Identity")
>>> license = client.resume() or client.activate(key_token)          # doctest: +SKIP
>>> with client.start_heartbeats(on_revoked=lambda e: print(e.code)):  # doctest: +SKIP
...     if client.has("sso"):
...         ...
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
    InvalidToken,
    LicenseExpired,
    LicenseRevoked,
    LicensingError,
    NetworkError,
    NotLicensed,
    RequestRefused,
    StepUpRequired,
)
from licensing_client.heartbeat import AsyncHeartbeats, HeartbeatLoop, HeartbeatSchedule
from licensing_client.jose import KeySet
from licensing_client.license import DEFAULT_ACR_LEVELS, AcrLevels, License

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
    "InvalidToken",
    "KeySet",
    "License",
    "LicenseExpired",
    "LicenseRevoked",
    "LicensingClient",
    "LicensingError",
    "NetworkError",
    "NotLicensed",
    "RequestRefused",
    "StepUpRequired",
    "__version__",
]
