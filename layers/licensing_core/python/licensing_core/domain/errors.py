"""Domain exceptions: every business error, in this one module. Each carries a stable
machine-readable ``code``.

The rule: a ``DomainError`` subclass is defined here and nowhere else (a unit test
walks the package and scans the source). First the bases (one per kind of refusal, each
a status at the edge), then contention, then one section per bounded context (catalog,
identities, registration, licenses, authentication, activations, offline, usage,
search) with that context's errors; every module raises them from here. A refusal that
needs no class of its own is a base with a ``code=``:
``Conflict("the identity is deactivated", code="IDENTITY_DEACTIVATED")``.

What is no business error stays where it happens: storage mechanics and private signals
in ``store/``, token parsing (``jose.TokenError``), configuration
(``settings.ConfigurationError``), and the problems that only exist at the HTTP edge
(``http.problems.HttpProblem``: payload size, media type, idempotency headers).

The HTTP edge maps these to RFC 9457 problems in one place
(:mod:`licensing_core.http.problems`); nothing else decides a status code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

# Bases: one per kind of refusal (``http.problems.STATUS_BY_ERROR`` gives each a status)


class DomainError(Exception):
    """Base of every error the service reports to a caller."""

    code: ClassVar[str] = "ERROR"
    title: ClassVar[str] = "Request failed"

    def __init__(self, detail: str, *, code: str | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.extensions = extensions


class InvalidRequest(DomainError):
    code = "INVALID_REQUEST"
    title = "Invalid request"


class ValidationFailed(DomainError):
    """The body parsed but its content breaks the schema or a business rule."""

    code = "VALIDATION_FAILED"
    title = "Validation failed"


class NotFound(DomainError):
    code = "NOT_FOUND"
    title = "Not found"


class AlreadyExists(DomainError):
    code = "ALREADY_EXISTS"
    title = "Already exists"


class IdempotencyKeyReused(ValidationFailed):
    """An idempotency key already answered a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"
    title = "Idempotency key reused"


class Conflict(DomainError):
    code = "CONFLICT"
    title = "Conflict"


class Unauthenticated(DomainError):
    """No credentials, or credentials that do not verify."""

    code = "INVALID_TOKEN"
    title = "Unauthenticated"


class Forbidden(DomainError):
    code = "FORBIDDEN"
    title = "Forbidden"


class Gone(DomainError):
    """The thing existed but is over for good (an expired claim, a dead activation)."""

    code = "GONE"
    title = "Gone"


class TooManyRequests(DomainError):
    code = "TOO_MANY_REQUESTS"
    title = "Too many requests"


class Unavailable(DomainError):
    """A dependency is throttling or failing; the caller may retry."""

    code = "SERVICE_UNAVAILABLE"
    title = "Service unavailable"


# Contention: a record changed meanwhile, a rate limit's window is full


class ConcurrentChange(Conflict):
    code = "CONCURRENT_CHANGE"
    title = "Concurrent change"


class RateLimited(TooManyRequests):
    code = "RATE_LIMITED"
    title = "Rate limited"


# Catalog: products, tiers and their inheritance


class TierCycle(Conflict):
    code = "TIER_CYCLE"
    title = "Tier inheritance cycle"


class PriceMissing(ValidationFailed):
    code = "PRICE_MISSING"
    title = "Price missing"


# Identities: tenants, customers and their accounts


class InvalidEmail(ValidationFailed, ValueError):
    """Not an email address once normalised (a ``ValueError`` too, so pydantic validators
    report it as a field error)."""

    code = "INVALID_EMAIL"
    title = "Invalid email address"

    def __init__(self) -> None:
        super().__init__("not a valid email address")


class TenantLimitReached(Conflict):
    code = "TENANT_LIMIT_REACHED"
    title = "Tenant limit reached"


class IdentityMismatch(Forbidden):
    code = "IDENTITY_MISMATCH"
    title = "Identity mismatch"


# Registration: self-service offers and the claims that fulfil them


class TierNotSelfService(ValidationFailed):
    code = "TIER_NOT_SELF_SERVICE"
    title = "Tier not open to self-service"


class RegistrationUnavailable(Unavailable):
    code = "REGISTRATION_UNAVAILABLE"
    title = "Registration unavailable"


class NoPendingClaim(NotFound):
    code = "NO_PENDING_CLAIM"
    title = "No pending claim"


class ClaimExpired(Gone):
    code = "CLAIM_EXPIRED"
    title = "Claim expired"


class ClaimInProgress(Conflict):
    code = "CLAIM_IN_PROGRESS"
    title = "Claim in progress"


class ClaimAlreadyFulfilled(Conflict):
    code = "CLAIM_ALREADY_FULFILLED"
    title = "Claim already fulfilled"


class EmailNotVerified(Forbidden):
    code = "EMAIL_NOT_VERIFIED"
    title = "Email not verified"


# Licenses: their status, their keys, and what a key allows


class LicenseNotActive(Conflict):
    code = "LICENSE_NOT_ACTIVE"
    title = "License not active"


class KeyRefused(Forbidden):
    """A license key that does not verify, or whose license is not usable; ``code`` is
    the validation code (``REVOKED``, ``EXPIRED``, ``SIGNATURE_INVALID``...)."""

    code = "KEY_REFUSED"
    title = "License key refused"


class LicenseExpired(DomainError):
    code = "LICENSE_EXPIRED"
    title = "License expired"


# Authentication: a token too weak or too old for the action (RFC 9470 step-up)


class StepUpRequired(Unauthenticated):
    """A valid token whose authentication is too weak or too old for the action."""

    code = "STEP_UP_REQUIRED"
    title = "Stronger authentication required"

    def __init__(self, detail: str, *, acr_values: Sequence[str], max_age: int | None) -> None:
        super().__init__(detail, acrValues=list(acr_values), maxAge=max_age)
        self.acr_values = tuple(acr_values)
        self.max_age = max_age

    @property
    def challenge(self) -> str:
        """The RFC 9470 ``WWW-Authenticate`` value, with only the parameters that apply."""
        parts = [
            'Bearer error="insufficient_user_authentication"',
            f'error_description="{_quoted(self.detail)}"',
        ]
        if self.acr_values:
            parts.append(f'acr_values="{_quoted(" ".join(self.acr_values))}"')
        if self.max_age is not None:
            parts.append(f"max_age={self.max_age}")
        return ", ".join(parts)


def _quoted(text: str) -> str:
    """A quoted-string body (RFC 9110): no quotes, backslashes or control characters."""
    return "".join(c for c in text if c not in '"\\' and c.isprintable())


# Activations: seats


class SeatLimitReached(Conflict):
    code = "SEAT_LIMIT_REACHED"
    title = "Seat limit reached"


# Offline: machine files, signed requests and proofs, borrowed seats


class OfflineNotAllowed(Forbidden):
    code = "OFFLINE_NOT_ALLOWED"
    title = "Offline use not allowed"


class TtlAbovePolicy(ValidationFailed):
    code = "TTL_ABOVE_POLICY"
    title = "Lifetime above the tier's policy"


class RequestRefused(ValidationFailed):
    """An offline activation request or a proof that does not verify; ``code`` says why
    (``SIGNATURE_INVALID``, ``WRONG_TOKEN_TYPE``, ``MALFORMED``...)."""

    code = "MALFORMED"
    title = "Signed request refused"


class StaleRequest(ValidationFailed):
    code = "STALE_REQUEST"
    title = "Stale request"


class NonceReused(Conflict):
    code = "NONCE_REUSED"
    title = "Request already used"


class MachineKeyRequired(ValidationFailed):
    code = "MACHINE_KEY_REQUIRED"
    title = "Machine key required"


class BadPublicKey(ValidationFailed):
    """A machine's public key that is not one RSA key of 2048 to 8192 bits."""

    code = "INVALID_PUBLIC_KEY"
    title = "Invalid public key"


class NotBorrowed(Conflict):
    code = "NOT_BORROWED"
    title = "Seat not borrowed"


# Usage: metered quotas


class QuotaExceeded(TooManyRequests):
    code = "QUOTA_EXCEEDED"
    title = "Quota exceeded"


# Search: which index answers a query


class SearchNotServed(ValidationFailed):
    """No index serves the filters given: the problem names the combinations that work."""

    code = "SEARCH_NOT_SERVED"
    title = "Search not served"

    def __init__(self, detail: str, combinations: tuple[str, ...]) -> None:
        super().__init__(detail, combinations=list(combinations))
