"""A tiny HTTP layer over ``urllib``: JSON in, JSON out, problems as typed errors.

The transport is a plain callable, so tests (and apps with their own HTTP stack) can
replace it. Redirects are never followed (a licensing endpoint that redirects is a
misconfiguration, and a redirect must not carry a license key elsewhere), and plain
``http`` is refused except to a loopback address unless explicitly allowed.
"""

from __future__ import annotations

import email.utils
import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from licensing_client.errors import ConfigurationError, NetworkError, RequestRefused

USER_AGENT = "licensing-client/0.1"
MAX_RESPONSE_BYTES = 1024 * 1024
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(?:no-store|no-cache)(?:$|[,\s=])", re.IGNORECASE)
#: 429 problem codes that are a final refusal, not a rate limit: a retry cannot succeed.
FINAL_429_CODES = frozenset({"QUOTA_EXCEEDED"})


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)  #: lower-case names
    body: bytes = b""

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def __repr__(self) -> str:  # never the body: it may hold a token
        return f"Response(status={self.status})"


class Transport(Protocol):
    def __call__(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float,
    ) -> Response:
        """Send one request; a 4xx/5xx is a :class:`Response`, not an exception. Raise
        :class:`NetworkError` when there is no answer."""
        ...


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx comes back as a response


class UrllibTransport:
    """The default transport: ``urllib`` (system proxies and CA store), no redirects."""

    def __init__(self) -> None:
        self._opener: urllib.request.OpenerDirector | None = None  # built on first use

    def __call__(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float,
    ) -> Response:
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))  # noqa: S310 - scheme checked by check_url
        if self._opener is None:
            self._opener = urllib.request.build_opener(_NoRedirect)
        try:
            with self._opener.open(request, timeout=timeout) as answer:
                return Response(
                    answer.status, _lower(answer.headers), answer.read(MAX_RESPONSE_BYTES)
                )
        except urllib.error.HTTPError as error:
            try:
                raw = error.read(MAX_RESPONSE_BYTES)
            except OSError:
                raw = b""
            return Response(error.code, _lower(error.headers), raw)
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise NetworkError(f"{method} {_origin(url)} failed: {reason}") from error


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers.items() if headers else ())}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def check_url(url: object, *, allow_http: bool = False, what: str = "URL") -> str:
    """``url`` if it is ``https`` (or ``http`` to a loopback host, or ``allow_http``)."""
    if not isinstance(url, str):
        raise ConfigurationError(f"{what} is not a string", code="INVALID_CONFIGURATION")
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if (
        parts.scheme == "http"
        and parts.hostname
        and (allow_http or parts.hostname in LOOPBACK_HOSTS)
    ):
        return url
    raise ConfigurationError(
        f"{what} must be an https URL (http only to a loopback host or with allow_http=True): "
        f"{_origin(url)}",
        code="INVALID_CONFIGURATION",
    )


def max_age(headers: Mapping[str, str]) -> float | None:
    """Seconds a response may be cached (``Cache-Control``), ``None`` when unspecified."""
    value = headers.get("cache-control", "")
    if _NO_CACHE.search(value):
        return 0.0
    match = _MAX_AGE.search(value)
    return float(match.group(1)) if match else None


def date_header(headers: Mapping[str, str]) -> float | None:
    """The server's ``Date`` as a POSIX timestamp."""
    value = headers.get("date")
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def get(transport: Transport, url: str, *, accept: str, timeout: float, now: float) -> Response:
    """``GET url``, its 2xx answer; a problem becomes a typed error (:func:`raise_for_problem`)."""
    response = transport(
        "GET", url, body=None, headers={"Accept": accept, "User-Agent": USER_AGENT}, timeout=timeout
    )
    raise_for_problem(response, refused=RequestRefused, what=f"GET {url}", now=now)
    return response


def raise_for_problem(
    response: Response,
    *,
    refused: type[RequestRefused],
    what: str,
    now: float,
) -> None:
    """Turn a non-2xx answer into a typed error: 4xx → ``refused`` (its kind for the
    problem's ``code``); 5xx, 408, 425, a rate limit (429 but ``QUOTA_EXCEEDED``, with or
    without ``Retry-After``) and odd statuses → :class:`NetworkError`, retryable."""
    if 200 <= response.status < 300:
        return
    problem = response.json()
    problem = problem if isinstance(problem, dict) else {}
    code = problem.get("code") if isinstance(problem.get("code"), str) else None
    detail = problem.get("detail") or problem.get("title") or f"HTTP {response.status}"
    detail = f"{what}: {detail}"
    rate_limited = response.status == 429 and code not in FINAL_429_CODES
    if 400 <= response.status < 500 and response.status not in (408, 425) and not rate_limited:
        raise refused.of(
            detail, code=code or f"HTTP_{response.status}", status=response.status, problem=problem
        )
    raise NetworkError(
        detail,
        code=code or f"HTTP_{response.status}",
        status=response.status,
        retry_after=retry_after(response.headers, now),
    )
