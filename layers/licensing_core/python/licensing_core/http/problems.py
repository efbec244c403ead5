"""RFC 9457 problem responses, and the one mapping from domain errors (and the edge's
own :class:`HttpProblem`) to HTTP.

Every body carries ``requestId`` (API Gateway's ``apigw-requestid``: what a customer
quotes to support, and the logs' correlation id), and a ``type`` URL under the API that
explains the code (``/problems/<slug>``, from :mod:`licensing_core.http.problem_catalog`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeAlias

from licensing_core.domain import errors
from licensing_core.http.problem_catalog import CATALOG, slug

PROBLEM_MEDIA_TYPE = "application/problem+json"

#: The single place where an error class becomes an HTTP status (most specific wins).
STATUS_BY_ERROR: dict[type[errors.DomainError], int] = {
    errors.InvalidRequest: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.Conflict: 409,
    errors.Gone: 410,
    errors.ValidationFailed: 422,
    errors.TooManyRequests: 429,
    errors.Unavailable: 503,
}


class HttpProblem(Exception):
    """A problem that only exists at the HTTP edge (payload size, media type, routing,
    idempotency headers): no domain error, it carries its own status."""

    def __init__(self, status: int, code: str, title: str, detail: str, **extensions: Any):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.extensions = extensions


#: What the edge answers as a problem: a domain error, or a problem of its own.
Refusal: TypeAlias = errors.DomainError | HttpProblem


def status_of(error: Refusal) -> int:
    if isinstance(error, HttpProblem):
        return error.status
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def problem_type(code: str, base_url: str) -> str:
    """The page explaining ``code``: under the API's base URL, relative when it is ""."""
    return f"{base_url}/problems/{slug(code)}"


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    request_id: str,
    base_url: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway v2 response carrying an ``application/problem+json`` body.

    ``title`` is the catalog's for a catalogued code (a type has one title, RFC 9457).
    ``extensions`` add members (RFC 9457 section 3.2); they never replace the standard ones.
    """
    known = CATALOG.get(code)
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": problem_type(code, base_url),
        "title": known.title if known else title,
        "status": status,
        "detail": detail,
        "code": code,
        "requestId": request_id,
    }
    if instance is not None:
        body["instance"] = instance
    return {
        "statusCode": status,
        "headers": {
            "content-type": PROBLEM_MEDIA_TYPE,
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
            **(headers or {}),
        },
        "body": json.dumps(body, default=str),
    }


def _challenge(error: Refusal) -> dict[str, str]:
    """``WWW-Authenticate`` for bearer failures: RFC 9470 for step-up, else RFC 6750."""
    if not isinstance(error, errors.Unauthenticated):
        return {}
    challenge = getattr(error, "challenge", None)
    if isinstance(challenge, str):
        return {"www-authenticate": challenge}
    if error.code == "MISSING_TOKEN":
        return {"www-authenticate": 'Bearer realm="licensing"'}
    description = error.detail.replace("\\", "").replace('"', "'")
    return {
        "www-authenticate": (
            f'Bearer realm="licensing", error="invalid_token", error_description="{description}"'
        )
    }


def from_error(
    error: Refusal, *, request_id: str, base_url: str, instance: str | None = None
) -> dict[str, Any]:
    """The response for a refusal: status from the mapping (or the edge problem's own),
    code from the error."""
    headers = _challenge(error)
    retry_after = error.extensions.get("retryAfterSeconds")
    if isinstance(retry_after, int):
        headers["retry-after"] = str(retry_after)
    return problem_response(
        status_of(error),
        error.code,
        error.title,
        error.detail,
        request_id=request_id,
        base_url=base_url,
        instance=instance,
        headers=headers,
        extensions=error.extensions,
    )
