"""Domain exceptions. Each carries a stable machine-readable ``code``.

The HTTP edge maps these to RFC 9457 problems in one place
(:mod:`licensing_core.http.problems`); nothing else decides a status code.
"""

from __future__ import annotations

from typing import Any, ClassVar


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
