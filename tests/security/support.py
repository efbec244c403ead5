"""Helpers of the security suite: forging JOSE objects, snapshotting DynamoDB, asserting
problems. Stdlib, cryptography and jwcrypto only; nothing here talks to a server by itself
except through the objects it is given."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from boto3.session import Session
from botocore.config import Config
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from licensing_core.http.problem_catalog import slug
from licensing_core.routes import match
from licensing_core.store.models import ALL_MODELS

from local.aws import access_token, moto_signing_key, with_mfa
from local.state import load_state
from tests.e2e.client import LocalServer, Reply, free_port

PROBLEM_MEDIA_TYPE = "application/problem+json"
#: What the local server calls its tables: ``LICENSING_TABLE_PREFIX`` + logical name.
TABLE_PREFIX = "licensing-"
TABLES = tuple(f"{TABLE_PREFIX}{model.logical_name}" for model in ALL_MODELS)
#: The verification leeway of the service (``LICENSING_LEEWAY_SECONDS``, default 30).
LEEWAY = 30

Json = dict[str, Any]


# --- JOSE ---------------------------------------------------------------------------


def b64url(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def segment(value: Any) -> str:
    """A JSON value as a base64url segment (any value: headers need not be objects)."""
    return b64url(json.dumps(value, separators=(",", ":")))


def decode_segment(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def claims_of(token: str) -> Json:
    claims: Json = decode_segment(token.split(".")[1])
    return claims


def rs256(key: rsa.RSAPrivateKey, signing_input: str) -> str:
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return b64url(signature)


def forge(
    header: Any,
    claims: Any,
    *,
    key: rsa.RSAPrivateKey | None = None,
    hmac_secret: bytes | None = None,
    signature: str | None = None,
) -> str:
    """A compact JWS with exactly this header and these claims, signed RS256 with ``key``,
    HS256 with ``hmac_secret``, or carrying ``signature`` verbatim (``""`` for none)."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    if key is not None:
        signature = rs256(key, signing_input)
    elif hmac_secret is not None:
        digest = hmac.new(hmac_secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        signature = b64url(digest)
    return f"{signing_input}.{signature or ''}"


def moto_cognito_key() -> tuple[str, rsa.RSAPrivateKey]:
    """``(kid, private key)`` moto's Cognito signs with: it ships in the moto package, so it
    stands for the identity provider and lets a test vary one claim at a time."""
    key = moto_signing_key()
    private: rsa.RSAPrivateKey = key.get_op_key("sign")
    return str(key["kid"]), private


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def now() -> int:
    return int(time.time())


# --- DynamoDB ------------------------------------------------------------------------


class Dynamo:
    """Reads the local server's tables directly on its moto endpoint."""

    def __init__(self, endpoint: str) -> None:
        session = Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_session_token="testing",
            region_name="us-east-1",
        )
        self.client = session.client(
            "dynamodb", endpoint_url=endpoint, config=Config(retries={"max_attempts": 2})
        )

    def items(self, table: str) -> list[Json]:
        items: list[Json] = []
        kwargs: Json = {"TableName": table, "ConsistentRead": True}
        while True:
            page = self.client.scan(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def snapshot(self, tables: Iterable[str] = TABLES) -> dict[str, list[str]]:
        """Every item of these tables, canonically serialized: any write shows."""
        return {
            table: sorted(json.dumps(item, sort_keys=True) for item in self.items(table))
            for table in tables
        }

    @contextmanager
    def unchanged(self, *routes: tuple[str, str]) -> Iterator[None]:
        """Asserts that the block wrote nothing: to the tables these ``(method, path)``
        routes may write (the route table grants exactly those in AWS), else to any table."""
        tables = written_tables(routes) if routes else TABLES
        before = self.snapshot(tables)
        yield
        after = self.snapshot(tables)
        if after != before:
            changed = {
                table: {
                    "added": sorted(set(after[table]) - set(before[table]))[:3],
                    "removed": sorted(set(before[table]) - set(after[table]))[:3],
                }
                for table in tables
                if after[table] != before[table]
            }
            raise AssertionError(f"the request wrote to DynamoDB: {changed}")

    def live_activations(self, license_id: str) -> int:
        return sum(
            1
            for item in self.items(f"{TABLE_PREFIX}activations")
            if item["license_id"]["S"] == license_id and item["status"]["S"] == "active"
        )

    def machine_claims(self, license_id: str) -> int:
        prefix = f"MACHINE#{license_id}#"
        return sum(
            1
            for item in self.items(f"{TABLE_PREFIX}uniques")
            if item["key"]["S"].startswith(prefix)
        )

    def active_seats(self, license_id: str) -> int:
        item = self.client.get_item(
            TableName=f"{TABLE_PREFIX}licenses",
            Key={"license_id": {"S": license_id}},
            ConsistentRead=True,
        )["Item"]
        return int(item["active_seats"]["N"])


def written_tables(routes: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The physical tables that the routes serving these requests may write."""
    names: set[str] = set()
    for method, path in routes:
        found = match(method, path.partition("?")[0])
        assert found, f"no route serves {method} {path}"
        names |= {name for name, access in found[0].tables if access == "write"}
    return tuple(f"{TABLE_PREFIX}{name}" for name in sorted(names))


# --- Assertions ----------------------------------------------------------------------


def text_of(reply: Reply) -> str:
    return reply.body if isinstance(reply.body, str) else json.dumps(reply.body)


def assert_no_leak(reply: Reply, secrets: Iterable[str] = ()) -> None:
    """No token, claims or given secret in the answer (body or headers)."""
    text = text_of(reply) + "\n" + "\n".join(f"{k}: {v}" for k, v in reply.headers.items())
    for secret in secrets:
        if secret:
            assert secret not in text, f"the answer leaks a secret: {text[:500]}"
    if isinstance(reply.body, dict):
        for member in ("keyToken", "token", "clientId"):
            assert member not in reply.body, reply.body
        assert reply.body.get("claims") is None, reply.body


def assert_problem(
    reply: Reply,
    status: int,
    code: str | Iterable[str] | None = None,
    *,
    secrets: Iterable[str] = (),
) -> None:
    """An RFC 9457 problem with this status and (one of these) codes, leaking nothing."""
    assert reply.status == status, (reply.status, reply.body)
    assert reply.headers.get("content-type", "").startswith(PROBLEM_MEDIA_TYPE), reply.headers
    body = reply.body
    assert isinstance(body, dict), body
    assert body.get("status") == status, body
    assert isinstance(body.get("title"), str) and isinstance(body.get("detail"), str), body
    # quotable: the id API Gateway sends (apigw-requestid), the page that explains the code
    assert body.get("requestId") and body["requestId"] == reply.headers["apigw-requestid"], body
    page = f"/problems/{slug(str(body.get('code')))}"
    assert re.fullmatch(rf"https?://[^/\s]+{page}", str(body.get("type"))), body
    if code is not None:
        codes = {code} if isinstance(code, str) else set(code)
        assert body.get("code") in codes, body
    assert reply.headers.get("x-content-type-options") == "nosniff", reply.headers
    assert_no_leak(reply, secrets)


def assert_invalid_key(reply: Reply, code: str | Iterable[str], *, token: str) -> None:
    """``POST /license-keys/validate`` said no, with this code, and gave nothing away."""
    assert reply.status == 200, (reply.status, reply.body)
    assert isinstance(reply.body, dict), reply.body
    assert reply.body["valid"] is False, reply.body
    codes = {code} if isinstance(code, str) else set(code)
    assert reply.body["code"] in codes, reply.body
    assert_no_leak(reply, [token])


def clear_of_window_edge(window_seconds: int = 3600, margin: float = 20) -> None:
    """Wait out the end of the current fixed rate-limit window (registration counts per
    hour) when it is less than ``margin`` seconds away, so a test's attempts share one."""
    left = window_seconds - time.time() % window_seconds
    if left < margin:
        time.sleep(left + 1)


# --- The world the attacks run against --------------------------------------------


def serve(factory: pytest.TempPathFactory, name: str) -> Iterator[LocalServer]:
    """A ``python -m local`` server on a free port for a session; it must stop cleanly."""
    data_dir = factory.mktemp(name) / "data"
    try:
        local = LocalServer.start(data_dir, "--port", str(free_port()))
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield local
    code = local.stop()
    assert code == 0, f"the local server exited with {code}:\n{local.output()[-5000:]}"


def user_token(server: LocalServer) -> str:
    """An access token of the plain user (in no group), straight from the server's Cognito
    (what ``python -m local token --user user`` does, without a subprocess)."""
    state = load_state(server.data_dir)
    return access_token(
        state.aws_endpoint, state.user_pool_id, state.client_id, state.accounts["user"]
    )


@dataclass
class Api:
    """The local server with its callers: admin (freshly signed in with MFA, so step-up
    protected actions pass), plain user, anonymous."""

    server: LocalServer
    user_token: str
    dynamo: Dynamo
    _admin: tuple[float, str] = (float("-inf"), "")  # monotonic time starts at boot

    @property
    def admin_token(self) -> str:
        """The server's admin token as if just signed in again with MFA (re-minted every 5
        minutes: step-up asks for an authentication of less than 15)."""
        if time.monotonic() - self._admin[0] > 300:
            self._admin = (time.monotonic(), with_mfa(self.server.admin_token))
        return self._admin[1]

    def admin(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.server.request(method, path, token=self.admin_token, json_body=body, **kwargs)

    def user(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.server.request(method, path, token=self.user_token, json_body=body, **kwargs)

    def anon(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.server.request(method, path, json_body=body, **kwargs)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        """An admin call that must succeed; its JSON body."""
        reply = self.admin(method, path, body)
        assert reply.status < 300, (method, path, reply.status, reply.body)
        return reply.body


@dataclass(frozen=True)
class License:
    license_id: str
    key_token: str
    customer_id: str
    tier_id: str


@dataclass
class World:
    """A product with two tiers (2 and 5 seats) and helpers to make identities and keys."""

    api: Api
    product_id: str
    product_code: str
    tiers: dict[str, str]
    tenant_id: str
    issued: list[License] = field(default_factory=list)

    def customer(self, name: str = "Customer", **extra: Any) -> str:
        body = {"email": f"{uuid.uuid4().hex[:12]}@example.com", "name": name, **extra}
        customer_id: str = self.api.ok("POST", "/customers", body)["customerId"]
        return customer_id

    def license(self, tier: str = "five", customer_id: str | None = None) -> License:
        customer_id = customer_id or self.customer()
        key = self.api.ok(
            "POST",
            "/license-keys",
            {
                "productId": self.product_id,
                "tierId": self.tiers[tier],
                "customerId": customer_id,
                "perpetual": True,
            },
        )
        issued = License(key["licenseId"], key["keyToken"], customer_id, self.tiers[tier])
        self.issued.append(issued)
        return issued

    def activate(self, license: License, machine_id: str | None = None) -> Json:
        reply = self.api.anon(
            "POST",
            "/license-activations/activate",
            {"keyToken": license.key_token, "machineId": machine_id or uuid.uuid4().hex},
        )
        assert reply.status in (200, 201), reply
        activation: Json = reply.body
        return activation


def build_world(api: Api) -> World:
    code = f"Sec.{uuid.uuid4().hex[:8]}"
    product_id = api.ok("POST", "/products", {"code": code, "name": "Security target"})["productId"]
    for key in ("sso", "export"):
        api.ok("POST", f"/products/{product_id}/features", {"key": key, "name": key.title()})
    tiers = {}
    for tier_code, seats, calls in (("two", 2, 1_000_000), ("five", 5, 10)):
        tiers[tier_code] = api.ok(
            "POST",
            f"/products/{product_id}/tiers",
            {
                "code": tier_code,
                "name": tier_code.title(),
                "monthlyPrice": 100,
                "annualPrice": 1000,
                "currency": "EUR",
                "billingPeriods": ["monthly"],
                "maxUsers": seats,
                "features": ["sso"],
                "quotas": {"api_calls": {"limit": calls, "period": "month"}},
            },
        )["tierId"]
    tenant_id = api.ok("POST", "/tenants", {"name": "Security tenant"})["tenantId"]
    return World(api, product_id, code, tiers, tenant_id)
