"""Typed errors. Each carries a stable ``code`` (the server's problem ``code`` when the
server refused), and none ever carries a token, a key or a client id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class LicensingError(Exception):
    """Base of every error of this package.

    ``code`` is stable and machine-readable; ``detail`` is for humans; ``status`` is the
    HTTP status when the error came from the server.
    """

    default_code = "LICENSING_ERROR"

    def __init__(self, detail: str, *, code: str | None = None, status: int | None = None):
        super().__init__(detail)
        self.code: str = code or self.default_code
        self.detail = detail
        self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, detail={self.detail!r})"

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class InvalidToken(LicensingError):
    """A token failed verification (``SIGNATURE_INVALID``, ``EXPIRED``, ``NOT_YET_VALID``,
    ``WRONG_TOKEN_TYPE``, ``WRONG_ISSUER``, ``WRONG_AUDIENCE``, ``UNKNOWN_KEY_ID``,
    ``DECRYPTION_FAILED``, ``MALFORMED``)."""

    default_code = "MALFORMED"


class ConfigurationError(LicensingError):
    """The client cannot do what was asked (bad discovery document, no server configured,
    no activation to renew...)."""

    default_code = "CONFIGURATION_ERROR"


class NetworkError(LicensingError):
    """The server could not be reached, or answered 5xx or a rate limit (429, but
    ``QUOTA_EXCEEDED``): worth retrying later.

    ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one.
    """

    default_code = "NETWORK_ERROR"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(detail, code=code, status=status)
        self.retry_after = retry_after


class RequestRefused(LicensingError):
    """The server refused a request with a 4xx problem (RFC 9457); ``code`` is the
    problem's ``code`` and ``problem`` the whole problem document."""

    default_code = "REFUSED"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        problem: Mapping[str, Any] | None = None,
    ):
        super().__init__(detail, code=code, status=status)
        self.problem: Mapping[str, Any] = dict(problem or {})

    @classmethod
    def of(
        cls, detail: str, *, code: str, status: int, problem: Mapping[str, Any]
    ) -> RequestRefused:
        """The refusal for a problem: a subclass may answer a more specific kind by code."""
        return cls(detail, code=code, status=status, problem=problem)


class ActivationRefused(RequestRefused):
    """``POST activate`` was refused (``SEAT_LIMIT_REACHED``, ``REVOKED``, ``EXPIRED``...)."""


class HeartbeatRefused(RequestRefused):
    """``POST heartbeat`` was refused (``UNKNOWN_CLIENT``, ``REVOKED``, ``EXPIRED``,
    ``SUSPENDED``, ``IDENTITY_DEACTIVATED``, ``ACTIVATION_DEAD``)."""


class DeactivationRefused(RequestRefused):
    """``POST deactivate`` was refused."""


class UsageRefused(RequestRefused):
    """``POST /usage`` was refused: ``UNKNOWN_METER`` (``problem["meters"]`` lists the
    tier's), ``VALIDATION_FAILED``, the license refusals of a heartbeat (``REVOKED``,
    ``EXPIRED``, ``ACTIVATION_DEAD``...), or one of the kinds below. Nothing was counted."""

    @classmethod
    def of(
        cls, detail: str, *, code: str, status: int, problem: Mapping[str, Any]
    ) -> RequestRefused:
        kind = {
            QuotaExceeded.default_code: QuotaExceeded,
            IdempotencyKeyReused.default_code: IdempotencyKeyReused,
        }.get(code, cls)
        return kind(detail, code=code, status=status, problem=problem)


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class QuotaExceeded(UsageRefused):
    """429 ``QUOTA_EXCEEDED``: the report does not fit what remains of the meter's quota
    this period. Not a rate limit: a retry cannot succeed before the period ends (or the
    tier changes), so it is never retried. ``meter``, ``used``, ``limit`` and
    ``remaining`` are the server's figures (``None`` when it sent none)."""

    default_code = "QUOTA_EXCEEDED"

    @property
    def meter(self) -> str | None:
        meter = self.problem.get("meter")
        return meter if isinstance(meter, str) else None

    @property
    def used(self) -> int | None:
        return _count(self.problem.get("used"))

    @property
    def limit(self) -> int | None:
        return _count(self.problem.get("limit"))

    @property
    def remaining(self) -> int | None:
        return _count(self.problem.get("remaining"))


class IdempotencyKeyReused(UsageRefused):
    """422 ``IDEMPOTENCY_KEY_REUSED``: this idempotency key already counted another report
    (another meter or quantity). Give each report its own key (the default: a new UUID)."""

    default_code = "IDEMPOTENCY_KEY_REUSED"


class NotLicensed(LicensingError):
    """Base of the errors that say "this action is not licensed right now"."""

    default_code = "NOT_LICENSED"


class FeatureNotLicensed(NotLicensed):
    """The license does not include the feature."""

    default_code = "FEATURE_NOT_LICENSED"

    def __init__(self, feature: str):
        super().__init__(f"the license does not include the feature {feature!r}")
        self.feature = feature


class LicenseExpired(NotLicensed):
    """The license (or the machine token carrying it) has expired."""

    default_code = "EXPIRED"


class LicenseRevoked(NotLicensed):
    """The server said the license is no longer usable (``REVOKED``, ``SUSPENDED``,
    ``IDENTITY_DEACTIVATED``, ``SUPERSEDED``); the client dropped it."""

    default_code = "REVOKED"


class ClockTampered(NotLicensed):
    """The local clock is behind the latest trusted time seen (a token's ``iat``, the
    server's ``Date``) by more than the tolerance. Fix the clock, or go online once: a
    successful heartbeat re-anchors the trusted time."""

    default_code = "CLOCK_TAMPERED"


class StepUpRequired(NotLicensed):
    """The feature needs a stronger or more recent authentication (RFC 9470).

    ``acr_values`` and ``max_age`` say what to ask the identity provider for (pass them
    as the ``acr_values`` / ``max_age`` parameters of a new authorization request);
    ``www_authenticate`` is the ready ``WWW-Authenticate`` header value of a 401.
    """

    default_code = "INSUFFICIENT_USER_AUTHENTICATION"

    def __init__(
        self,
        detail: str,
        *,
        feature: str,
        acr_values: str | None,
        max_age: int | None,
    ):
        super().__init__(detail, status=401)
        self.feature = feature
        self.acr_values = acr_values
        self.max_age = max_age

    @property
    def www_authenticate(self) -> str:
        """``Bearer error="insufficient_user_authentication", error_description="...",
        acr_values="...", max_age=N`` (only the parameters that apply)."""
        description = self.detail.replace("\\", "\\\\").replace('"', '\\"')
        parts = [
            'Bearer error="insufficient_user_authentication"',
            f'error_description="{description}"',
        ]
        if self.acr_values:
            parts.append(f'acr_values="{self.acr_values}"')
        if self.max_age is not None:
            parts.append(f"max_age={self.max_age}")
        return ", ".join(parts)
