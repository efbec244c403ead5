"""Test doubles of the SDK's unit tests: a test issuer (signing with jwcrypto, an
independent JOSE implementation), a fake clock, and a fake licensing server behind the
SDK's transport interface. No sockets anywhere."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwcrypto import jwe, jwk, jws
from jwcrypto.common import json_encode
from licensing_client import NetworkError
from licensing_client.http import Response

ISSUER = "https://licensing.test"
PRODUCT = "Rdn.Identity"
BASE_URL = "https://licensing.test"
T0 = 1_800_000_000.0


class FakeClock:
    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Issuer:
    """Signs tokens like the server: RS256, ``kid``, ``typ``."""

    key: jwk.JWK
    kid: str
    others: list[jwk.JWK] = field(default_factory=list)

    @property
    def jwks(self) -> dict[str, Any]:
        keys = [json.loads(k.export_public()) for k in [self.key, *self.others]]
        for member in keys:
            member.update(use="sig", alg="RS256")
        return {"keys": keys}

    def sign(
        self,
        claims: Mapping[str, Any],
        *,
        typ: str | None = "license+jwt",
        key: jwk.JWK | None = None,
        **header: Any,
    ) -> str:
        """Signed by jwcrypto; ``header`` adds (or with ``None`` removes) members."""
        signing_key = key or self.key
        protected: dict[str, Any] = {"alg": "RS256", "kid": signing_key.get("kid")}
        if typ is not None:
            protected["typ"] = typ
        protected.update(header)
        protected = {k: v for k, v in protected.items() if v is not None}
        token = jws.JWS(json.dumps(dict(claims)).encode())
        token.add_signature(signing_key, alg=protected["alg"], protected=json_encode(protected))
        return str(token.serialize(compact=True))

    def sign_raw(self, header: Mapping[str, Any], claims: Any) -> str:
        """RS256 with ``cryptography`` for what jwcrypto refuses to produce (``crit``...)."""
        signing_input = (
            f"{b64(json.dumps(dict(header)).encode())}.{b64(json.dumps(claims).encode())}"
        )
        private = self.key.get_op_key("sign")
        signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64(signature)}"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encrypt(
    plaintext: str,
    public_key: rsa.RSAPublicKey,
    *,
    alg: str = "RSA-OAEP",
    enc: str = "A256CBC-HS512",
    cty: str | None = "JWT",
) -> str:
    """A compact JWE built by jwcrypto, the way the server encrypts machine tokens."""
    header: dict[str, Any] = {"alg": alg, "enc": enc}
    if cty is not None:
        header["cty"] = cty
    token = jwe.JWE(plaintext.encode(), json_encode(header), algs=[alg, enc])
    token.add_recipient(jwk.JWK.from_pyca(public_key))
    return str(token.serialize(compact=True))


def license_claims(now: float = T0, **overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "lic_1",
        "aud": PRODUCT,
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now) + 3_155_760_000,
        "jti": uuid.uuid4().hex,
        "customer": "cus_1",
        "tenant": "default",
        "product": "prd_1",
        "tier": "enterprise",
        "features": ["audit_log", "data_export", "multi_tenant", "passkeys", "sso"],
        "limits": {
            "maxUsers": 50,
            "maxTenants": 10,
            "quotas": {"api_calls": {"limit": 10_000_000, "period": "month"}},
        },
        "heartbeat": {"intervalSeconds": 3600, "ttlSeconds": 172_800},
        "stepUp": {"data_export": {"acr": "mfa", "maxAge": 300}},
        "gen": 1,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@dataclass
class FakeServer:
    """The licensing API as far as the SDK sees it (transport-level fake)."""

    issuer: Issuer
    clock: FakeClock
    configuration_headers: dict[str, str] = field(
        default_factory=lambda: {"cache-control": "public, max-age=300"}
    )
    jwks_headers: dict[str, str] = field(
        default_factory=lambda: {"cache-control": "public, max-age=300"}
    )
    ttl: int = 172_800
    interval: int = 3600
    encrypt: bool = True
    #: The next answers of the heartbeat endpoint, consumed first: a problem code, an
    #: HTTP status, or "network".
    heartbeat_script: list[str | int] = field(default_factory=list)
    activation_refusal: str | None = None
    date_header: Callable[[], str | None] = lambda: None
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    activations: dict[str, dict[str, Any]] = field(default_factory=dict)
    reachable: bool = True
    jwks_override: dict[str, Any] | None = None
    #: Usage: each meter's limit this period, what is used, the counted idempotency keys
    #: (key -> meter, quantity, used after), and the next answers, consumed first:
    #: "network" (the request never arrives), "drop" (counted, the answer is lost) or
    #: (status, code) (a problem with ``Retry-After: 7``).
    quotas: dict[str, int] = field(default_factory=lambda: {"api_calls": 5})
    used: dict[str, int] = field(default_factory=dict)
    receipts: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    usage_script: list[str | tuple[int, str]] = field(default_factory=list)

    def count(self, path: str) -> int:
        return sum(1 for _, url, _ in self.requests if url.endswith(path))

    def sent(self, path: str) -> list[Any]:
        """The bodies of the requests to ``path``, in order."""
        return [body for _, url, body in self.requests if url.endswith(path)]

    def __call__(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float,
    ) -> Response:
        payload = json.loads(body) if body else None
        self.requests.append((method, url, payload))
        if not self.reachable:
            raise NetworkError(f"{method} {url} failed: connection refused")
        path = url.removeprefix(BASE_URL)
        extra = {"date": d} if (d := self.date_header()) else {}
        if path == "/.well-known/license-configuration":
            return self._json(200, self.configuration(), {**self.configuration_headers, **extra})
        if path == "/.well-known/jwks.json":
            jwks = self.jwks_override if self.jwks_override is not None else self.issuer.jwks
            return self._json(200, jwks, {**self.jwks_headers, **extra})
        if path == "/license-activations/activate":
            return self._activate(payload, extra)
        if path == "/license-keys/heartbeat":
            return self._heartbeat(payload, extra)
        if path == "/usage":
            return self._usage(payload, extra)
        if path == "/license-activations/deactivate":
            record = self.activations.pop(payload["clientId"], None)
            if record is None:
                return self._problem(404, "UNKNOWN_CLIENT", extra)
            return self._json(200, {"deactivated": True}, extra)
        return self._problem(404, "ROUTE_NOT_FOUND", extra)

    @staticmethod
    def configuration() -> dict[str, Any]:
        return {
            "issuer": ISSUER,
            "jwks_uri": f"{BASE_URL}/.well-known/jwks.json",
            "validate_endpoint": f"{BASE_URL}/license-keys/validate",
            "activation_endpoint": f"{BASE_URL}/license-activations/activate",
            "deactivation_endpoint": f"{BASE_URL}/license-activations/deactivate",
            "heartbeat_endpoint": f"{BASE_URL}/license-keys/heartbeat",
            "token_signing_alg_values_supported": ["RS256"],
            "token_encryption_alg_values_supported": ["RSA-OAEP"],
            "token_encryption_enc_values_supported": ["A256CBC-HS512"],
            "token_types_supported": ["license+jwt", "activation+jwt"],
        }

    @staticmethod
    def _json(status: int, body: Any, headers: Mapping[str, str]) -> Response:
        return Response(
            status, {"content-type": "application/json", **headers}, json.dumps(body).encode()
        )

    @staticmethod
    def _problem(
        status: int, code: str, headers: Mapping[str, str] | None = None, **extensions: Any
    ) -> Response:
        body = {
            **extensions,
            "type": "about:blank",
            "title": code,
            "status": status,
            "detail": code,
            "code": code,
        }
        return Response(
            status,
            {"content-type": "application/problem+json", **(headers or {})},
            json.dumps(body).encode(),
        )

    def _token(self, record: dict[str, Any]) -> dict[str, Any]:
        now = int(self.clock())
        claims = {
            **record["claims"],
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
            "cid": record["clientId"],
            "machineId": record["machineId"],
        }
        token = self.issuer.sign(claims, typ="activation+jwt")
        token_type = "jws"
        if record["publicKey"] is not None and self.encrypt:
            token, token_type = encrypt(token, record["publicKey"]), "jwe"
        return {
            "token": token,
            "tokenType": token_type,
            "expiresAt": now + self.ttl,
            "nextHeartbeatAt": now + self.interval,
        }

    def _activate(self, payload: dict[str, Any], extra: Mapping[str, str]) -> Response:
        if self.activation_refusal:
            return self._problem(403, self.activation_refusal, extra)
        key_claims = json.loads(jws_payload(payload["keyToken"]))
        public_key = None
        if payload.get("publicKey"):
            from cryptography.hazmat.primitives.serialization import load_pem_public_key

            public_key = load_pem_public_key(payload["publicKey"].encode())
        for record in self.activations.values():
            if (
                record["machineId"] == payload["machineId"]
                and record["claims"]["sub"] == key_claims["sub"]
            ):
                record["publicKey"] = public_key
                break
        else:
            record = {
                "clientId": "cli_" + uuid.uuid4().hex,
                "activationId": "act_" + uuid.uuid4().hex,
                "machineId": payload["machineId"],
                "publicKey": public_key,
                "claims": {
                    k: v for k, v in key_claims.items() if k not in ("iat", "nbf", "exp", "jti")
                },
            }
            self.activations[record["clientId"]] = record
        body = {
            "activationId": record["activationId"],
            "clientId": record["clientId"],
            **self._token(record),
        }
        return self._json(201, body, extra)

    def _heartbeat(self, payload: dict[str, Any], extra: Mapping[str, str]) -> Response:
        if self.heartbeat_script:
            step = self.heartbeat_script.pop(0)
            if step == "network":
                raise NetworkError("heartbeat failed: connection reset")
            if isinstance(step, int):
                return self._problem(step, f"HTTP_{step}", {**extra, "retry-after": "7"})
            if step in ("UNKNOWN_CLIENT", "ACTIVATION_DEAD"):
                self.activations.pop(payload["clientId"], None)
            return self._problem(404 if step == "UNKNOWN_CLIENT" else 403, step, extra)
        record = self.activations.get(payload["clientId"])
        if record is None:
            return self._problem(404, "UNKNOWN_CLIENT", extra)
        return self._json(200, self._token(record), extra)

    def _usage(self, payload: dict[str, Any], extra: Mapping[str, str]) -> Response:
        """Counts like the server: a key counts once, a report never exceeds the limit."""
        step = self.usage_script.pop(0) if self.usage_script else None
        if step == "network":
            raise NetworkError("usage report failed: connection refused")
        if isinstance(step, tuple):
            return self._problem(step[0], step[1], {**extra, "retry-after": "7"})
        if payload["clientId"] not in self.activations:
            return self._problem(404, "UNKNOWN_CLIENT", extra)
        meter, quantity, key = payload["meter"], payload["quantity"], payload["idempotencyKey"]
        limit = self.quotas[meter]
        used = self.used.get(meter, 0)
        receipt = self.receipts.get(key)
        if receipt is not None and receipt[:2] != (meter, quantity):
            return self._problem(422, "IDEMPOTENCY_KEY_REUSED", extra)
        if receipt is not None:
            used = receipt[2]
        elif used + quantity > limit:
            return self._problem(
                429, "QUOTA_EXCEEDED", extra, meter=meter, used=used, limit=limit,
                remaining=limit - used,
            )  # fmt: skip
        else:
            used = self.used[meter] = used + quantity
            self.receipts[key] = (meter, quantity, used)
        if step == "drop":
            raise NetworkError("usage report failed: connection reset")
        body = {
            "meter": meter,
            "used": used,
            "limit": limit,
            "remaining": limit - used,
            "periodEndsAt": "2027-01-31T12:00:00Z",
            "replayed": receipt is not None,
        }
        return self._json(200, body, extra)


def jws_payload(token: str) -> bytes:
    segment = token.split(".")[1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
