"""Test helpers shared by the suites: minting OIDC tokens and invoking handlers."""

from __future__ import annotations

import importlib.util
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from jwcrypto import jwk, jwt
from licensing_core.routes import Route, match
from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from tests import table_grants

ROOT = Path(__file__).resolve().parents[1]
table_grants.install()


@dataclass
class TokenMinter:
    """An OIDC issuer of our own, to mint tokens a verifier is configured to trust."""

    issuer: str = "https://issuer.test/pool"
    client_id: str = "client-test"
    key: jwk.JWK = field(default_factory=lambda: jwk.JWK.generate(kty="RSA", size=2048, kid="k1"))

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.export_public(as_dict=True)]}

    def mint(self, *, header: Mapping[str, Any] | None = None, **claims: Any) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "user-1",
            "client_id": self.client_id,
            "token_use": "access",
            "iat": now,
            "exp": now + 600,
            "cognito:groups": ["license-admins"],
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        token = jwt.JWT(header={"alg": "RS256", "kid": self.key.kid, **(header or {})}, claims=body)
        token.make_signed_token(self.key)
        return str(token.serialize())


def unsigned_token(**claims: Any) -> str:
    """A token with ``alg: none`` (which every verifier must refuse)."""
    from licensing_core.jose import b64url_encode

    header = b64url_encode(json.dumps({"alg": "none", "kid": "k1"}).encode())
    payload = b64url_encode(json.dumps(claims).encode())
    return f"{header}.{payload}."


@cache
def load_handler(function: str) -> ModuleType:
    """Import ``functions/<function>/handler.py`` as Lambda would (by file). Its handler
    may touch only the tables its row grants (:mod:`tests.table_grants`)."""
    path = ROOT / "functions" / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"functions.{function}.handler", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    vars(module)["handler"] = table_grants.attributed(function, vars(module)["handler"])
    return module


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


def api_event(
    method: str,
    path: str,
    *,
    body: str | bytes | Mapping[str, Any] | None = None,
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> tuple[Route, dict[str, Any]]:
    """The route and the API Gateway HTTP API v2 event for a request."""
    found = match(method, path)
    assert found, f"no route for {method} {path}"
    route, params = found
    all_headers = {"host": "api.test", "x-forwarded-proto": "https", **(headers or {})}
    if token is not None:
        all_headers["authorization"] = f"Bearer {token}"
    if isinstance(body, Mapping):
        body = json.dumps(body)
        all_headers.setdefault("content-type", "application/json")
    if isinstance(body, bytes):
        body = body.decode()
    event = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": all_headers,
        "queryStringParameters": dict(query) if query else None,
        "pathParameters": params or None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "domainName": "api.test",
            "routeKey": route.route_key,
            "stage": "$default",
            "http": {
                "method": method,
                "path": path,
                "sourceIp": "198.51.100.7",
                "userAgent": "pytest",
            },
        },
        "body": body,
        "isBase64Encoded": False,
    }
    return route, event


def invoke(method: str, path: str, **kwargs: Any) -> Response:
    """Call the handler of ``method path`` with an API Gateway event, as Lambda would."""
    route, event = api_event(method, path, **kwargs)
    result = load_handler(route.function).handler(event, None)
    return Response(result["statusCode"], result["headers"], result["body"])


def seeded_tier(code: str, max_users: int, **fields: Any) -> tuple[str, str]:
    """A new product with one free tier, through the services: ``(productId, tierId)``."""
    from licensing_core import schemas
    from licensing_core.services import catalog

    product = catalog.create_product(schemas.ProductCreate(code=code, name=code))
    tier = catalog.create_tier(
        product.product_id,
        schemas.TierCreate(
            code=code.lower(),
            name=code,
            monthly_price=0,
            annual_price=0,
            currency="EUR",
            billing_periods=["monthly"],
            max_users=max_users,
            **fields,
        ),
    )
    return product.product_id, tier.tier_id


def seeded_license(product_id: str, tier_id: str) -> tuple[str, str]:
    """A perpetual license of a new identity, through the services: ``(id, keyToken)``."""
    from licensing_core import schemas
    from licensing_core.services import identities, licenses

    customer = identities.create_customer(
        schemas.CustomerCreate(email=f"{uuid.uuid4().hex}@example.com", name="Seeded"), "test"
    )
    key = licenses.issue(
        schemas.LicenseCreate(
            product_id=product_id, tier_id=tier_id, customer_id=customer.customer_id, perpetual=True
        ),
        actor="test",
    )
    return key.license_id, key.key_token


def full_width(text: str) -> str:
    """``text`` as an East Asian input method types it: printable ASCII as its full-width
    form (U+FF01..FF5E), which NFKC maps back."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def model_fields(model: type, *, mode: JsonSchemaMode = "validation") -> dict[str, bool]:
    """Each field of a route's model, pydantic's or plain (``licensing_core.plain``), by
    its name and by its wire name: whether it is required."""
    found: dict[str, bool] = {}
    for by_alias in (False, True):
        schema = TypeAdapter(model).json_schema(by_alias=by_alias, mode=mode)
        required = set(schema.get("required", ()))
        found.update({name: name in required for name in schema["properties"]})
    return found
