"""The HTTP client: JSON in and out, RFC 9457 problems turned into typed errors."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from licensing_cli import __version__

DEFAULT_TIMEOUT = 30.0
_AUTH_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)')


@dataclass(frozen=True)
class ApiResponse:
    """A successful answer: ``text`` is exactly what the API sent, ``data`` its JSON."""

    status: int
    text: str
    data: Any


@dataclass(frozen=True)
class Challenge:
    """A parsed ``WWW-Authenticate`` header (RFC 6750 / RFC 9470 parameters)."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def error(self) -> str | None:
        return self.params.get("error")

    @property
    def max_age(self) -> int | None:
        value = self.params.get("max_age", "")
        return int(value) if value.isdigit() else None

    @property
    def acr_values(self) -> list[str]:
        return self.params.get("acr_values", "").split()


def parse_challenge(header: str | None) -> Challenge | None:
    """Parse ``Bearer key="value", key=token, ...``; None without a header."""
    if not header or not header.strip():
        return None
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for name, raw in _AUTH_PARAM.findall(rest):
        value = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\") if raw[:1] == '"' else raw
        params[name.lower()] = value
    return Challenge(scheme, params)


class ApiError(Exception):
    """The API refused or failed a request with a problem document (or something else)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str = "",
        www_authenticate: str | None = None,
        body: Any = None,
        text: str = "",
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title
        self.www_authenticate = www_authenticate
        self.body = body
        self.text = text

    @property
    def challenge(self) -> Challenge | None:
        return parse_challenge(self.www_authenticate)

    @property
    def field_errors(self) -> list[Mapping[str, Any]]:
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        return [e for e in errors or [] if isinstance(e, dict)]


class StepUpRequired(ApiError):
    """401 with ``error="insufficient_user_authentication"`` (RFC 9470)."""

    @property
    def max_age(self) -> int | None:
        challenge = self.challenge
        return challenge.max_age if challenge else None

    @property
    def acr_values(self) -> list[str]:
        challenge = self.challenge
        return challenge.acr_values if challenge else []


class Unreachable(Exception):
    """No HTTP answer at all: DNS, refused connection, timeout, TLS."""


def error_from(response: httpx.Response) -> ApiError:
    """The typed error of a non-2xx response."""
    text = response.text
    body: Any = None
    try:
        body = response.json()
    except ValueError:
        body = None
    problem = body if isinstance(body, dict) else {}
    code = str(problem.get("code") or f"HTTP_{response.status_code}")
    detail = str(problem.get("detail") or problem.get("message") or response.reason_phrase)
    header = response.headers.get("www-authenticate")
    challenge = parse_challenge(header)
    kind = ApiError
    if (
        response.status_code == 401
        and challenge
        and challenge.error == "insufficient_user_authentication"
    ):
        kind = StepUpRequired
    return kind(
        response.status_code,
        code,
        detail,
        title=str(problem.get("title") or ""),
        www_authenticate=header,
        body=body,
        text=text,
    )


class ApiClient:
    """A thin JSON client of the licensing API."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": f"licensing-cli/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """Send one request; a 2xx is returned, anything else raised as :class:`ApiError`."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        content = None if body is None else json.dumps(body).encode()
        all_headers = dict(headers or {})
        if content is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(
                method, path, content=content, params=query, headers=all_headers
            )
        except httpx.HTTPError as error:
            raise Unreachable(f"{self.base_url}: {error or type(error).__name__}") from error
        if not response.is_success:
            raise error_from(response)
        data: Any = None
        if response.content:
            try:
                data = response.json()
            except ValueError:
                data = response.text
        return ApiResponse(response.status_code, response.text, data)

    def get(self, path: str, **params: Any) -> ApiResponse:
        return self.request("GET", path, params=params)

    def post(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        return self.request("POST", path, body=body if body is not None else {}, headers=headers)

    def patch(self, path: str, body: Mapping[str, Any]) -> ApiResponse:
        return self.request("PATCH", path, body=body)
