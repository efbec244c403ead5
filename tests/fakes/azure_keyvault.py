"""A fake Azure Key Vault behind the real azure SDK: an ``HttpTransport`` serving the REST API.

Only what a signer uses: ``GET /keys/{name}[/{version}]`` and ``POST
/keys/{name}/{version}/sign``, with Key Vault's challenge authentication (a request
without a bearer token gets a 401 naming the tenant and resource). Private keys stay
in this object; every request is recorded so tests can check what travelled.

Usage::

    vault = FakeKeyVault()
    key_id = vault.add_rsa_key("signing", private_key)
    signer = AzureKeyVaultSigner(key_id, credential=FakeCredential(), transport=vault.transport())
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError, ServiceRequestError
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest, HttpResponse
from azure.core.utils import CaseInsensitiveDict
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

TOKEN = "fake-access-token"
TENANT = "00000000-0000-0000-0000-00000000fa4e"
CHALLENGE = (
    f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", '
    'resource="https://vault.azure.net"'
)
#: JWK members that only a private key has.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


class FakeCredential:
    """A ``TokenCredential`` that hands out one fixed token and records what was asked."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.requests: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.requests.append((scopes, kwargs))
        return AccessToken(self.token, int(time.time()) + 3600)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class _Version:
    version: str
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass
class FakeKeyVault:
    """One vault (a unique host per instance, so the SDK's process-wide challenge cache
    never carries state from one test to the next)."""

    name: str = field(default_factory=lambda: f"fake{uuid.uuid4().hex[:12]}")
    keys: dict[str, list[_Version]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    #: Key names whose GET answers 403 (no ``keys/get`` permission).
    forbidden: set[str] = field(default_factory=set)
    #: Status every sign request answers with instead of signing (e.g. 429, 500, 503)...
    sign_status: int | None = None
    #: ...and the headers that go with it (e.g. ``Retry-After``).
    sign_headers: dict[str, str] = field(default_factory=dict)
    #: Sign requests fail at the network level (DNS, connection refused).
    sign_unreachable: bool = False

    @property
    def host(self) -> str:
        return f"{self.name}.vault.azure.net"

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    def key_id(self, name: str, version: str | None = None) -> str:
        return f"{self.url}/keys/{name}" + (f"/{version}" if version else "")

    def add_rsa_key(self, name: str, private: rsa.RSAPrivateKey) -> str:
        """Add a new version of ``name`` (it becomes the latest); its versioned identifier."""
        return self._add(name, private)

    def add_ec_key(self, name: str) -> str:
        return self._add(name, ec.generate_private_key(ec.SECP256R1()))

    def _add(self, name: str, private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
        version = uuid.uuid4().hex
        self.keys.setdefault(name, []).append(_Version(version, private))
        return self.key_id(name, version)

    def transport(self) -> FakeTransport:
        return FakeTransport(self)

    def sign_requests(self) -> list[RecordedRequest]:
        """Authorized sign requests (the challenge's bodiless first attempt excluded)."""
        return [r for r in self.requests if r.path.endswith("/sign") and r.body]

    # -- the REST API -------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> tuple[int, dict[str, str], Any]:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {"WWW-Authenticate": CHALLENGE}, _error("Unauthorized", "no token")
        if not request.query.get("api-version"):
            return 400, {}, _error("BadParameter", "api-version is required")
        parts = [part for part in request.path.split("/") if part]
        if len(parts) in (2, 3) and parts[0] == "keys" and request.method == "GET":
            return self._get_key(parts[1], parts[2] if len(parts) == 3 else None)
        if (
            len(parts) == 4
            and parts[0] == "keys"
            and parts[3] == "sign"
            and request.method == "POST"
        ):
            return self._sign(parts[1], parts[2], request.json())
        return 405, {}, _error("BadParameter", f"{request.method} {request.path} is not served")

    def _find(self, name: str, version: str | None) -> _Version | None:
        versions = self.keys.get(name, [])
        if not version:
            return versions[-1] if versions else None
        return next((v for v in versions if v.version == version), None)

    def _get_key(self, name: str, version: str | None) -> tuple[int, dict[str, str], Any]:
        if name in self.forbidden:
            return 403, {}, _error("Forbidden", "The user does not have keys get permission")
        found = self._find(name, version)
        if found is None:
            return 404, {}, _error("KeyNotFound", f"A key with (name/id) {name} was not found")
        return 200, {}, {"key": self._public_jwk(name, found), "attributes": _attributes()}

    def _public_jwk(self, name: str, found: _Version) -> dict[str, Any]:
        kid = self.key_id(name, found.version)
        if isinstance(found.private, rsa.RSAPrivateKey):
            numbers = found.private.public_key().public_numbers()
            return {
                "kid": kid,
                "kty": "RSA",
                "key_ops": ["sign", "verify"],
                "n": b64url(_int_bytes(numbers.n)),
                "e": b64url(_int_bytes(numbers.e)),
            }
        point = found.private.public_key().public_numbers()
        return {
            "kid": kid,
            "kty": "EC",
            "crv": "P-256",
            "key_ops": ["sign", "verify"],
            "x": b64url(point.x.to_bytes(32, "big")),
            "y": b64url(point.y.to_bytes(32, "big")),
        }

    def _sign(self, name: str, version: str, body: Any) -> tuple[int, dict[str, str], Any]:
        if self.sign_status is not None:
            return self.sign_status, dict(self.sign_headers), _error("Throttled", "try later")
        found = self._find(name, version)
        if found is None:
            return 404, {}, _error("KeyNotFound", f"A key with (name/id) {name} was not found")
        if not isinstance(body, dict) or body.get("alg") != "RS256":
            return 400, {}, _error("BadParameter", "only RS256 is accepted by this fake")
        digest = b64url_decode(str(body.get("value", "")))
        if len(digest) != 32:
            return 400, {}, _error("BadParameter", "RS256 signs a 32-byte SHA-256 digest")
        if not isinstance(found.private, rsa.RSAPrivateKey):
            return 400, {}, _error("BadParameter", "RS256 needs an RSA key")
        signature = found.private.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        return 200, {}, {"kid": self.key_id(name, version), "value": b64url(signature)}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _attributes() -> dict[str, Any]:
    now = int(time.time())
    return {"enabled": True, "created": now, "updated": now, "recoveryLevel": "Recoverable"}


class FakeTransport(HttpTransport[HttpRequest, HttpResponse]):
    """Routes the SDK's requests to a :class:`FakeKeyVault`; never opens a socket or sleeps."""

    def __init__(self, vault: FakeKeyVault) -> None:
        self.vault = vault
        self.slept: list[float] = []

    def send(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        url = urlparse(request.url)
        body = request.content or b""
        recorded = RecordedRequest(
            method=request.method,
            path=url.path,
            query=parse_qs(url.query),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body.encode() if isinstance(body, str) else bytes(body),
        )
        self.vault.requests.append(recorded)
        if url.hostname != self.vault.host or (
            self.vault.sign_unreachable and url.path.endswith("/sign")
        ):
            raise ServiceRequestError(f"cannot connect to {url.hostname}")
        status, headers, payload = self.vault.handle(recorded)
        content = json.dumps(payload).encode()
        return FakeResponse(
            request, status, {"Content-Type": "application/json", **headers}, content
        )

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __exit__(self, *args: object) -> None:
        pass

    def sleep(self, duration: float) -> None:
        self.slept.append(duration)


class FakeResponse(HttpResponse):
    """A complete, already-read response."""

    def __init__(
        self, request: HttpRequest, status: int, headers: dict[str, str], content: bytes
    ) -> None:
        self._request = request
        self._status = status
        self._headers: MutableMapping[str, str] = CaseInsensitiveDict(headers)
        self._content = content
        self._encoding: str | None = "utf-8"

    @property
    def request(self) -> HttpRequest:
        return self._request

    @property
    def status_code(self) -> int:
        return self._status

    @property
    def headers(self) -> MutableMapping[str, str]:
        return self._headers

    @property
    def reason(self) -> str:
        return {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}.get(
            self._status, "Error"
        )

    @property
    def content_type(self) -> str | None:
        return self._headers.get("Content-Type")

    @property
    def is_closed(self) -> bool:
        return True

    @property
    def is_stream_consumed(self) -> bool:
        return True

    @property
    def encoding(self) -> str | None:
        return self._encoding

    @encoding.setter
    def encoding(self, value: str | None) -> None:
        self._encoding = value

    @property
    def url(self) -> str:
        return self._request.url

    @property
    def content(self) -> bytes:
        return self._content

    def text(self, encoding: str | None = None) -> str:
        return self._content.decode(encoding or self._encoding or "utf-8")

    def json(self) -> Any:
        return json.loads(self._content) if self._content else None

    def raise_for_status(self) -> None:
        if self._status >= 400:
            raise HttpResponseError(response=self)

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *args: Any) -> None:
        pass

    def close(self) -> None:
        pass

    def read(self) -> bytes:
        return self._content

    def iter_raw(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._content

    def iter_bytes(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._content
