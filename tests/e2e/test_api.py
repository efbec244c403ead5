"""The API over real HTTP: local server, moto server, the real handlers."""

from __future__ import annotations

import base64
import json
import re
import stat
import time
import uuid
from typing import Any

import pytest
from jwcrypto import jwk, jwt

from local.aws import moto_signing_key
from tests.e2e.client import LocalServer, Reply

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def assert_problem(reply: Reply, status: int, code: str | None = None) -> None:
    assert reply.status == status, reply
    assert reply.headers["content-type"].startswith(PROBLEM), reply.headers
    assert isinstance(reply.body, dict) and reply.body.get("code"), reply.body
    assert reply.body["status"] == status
    if code is not None:
        assert reply.body["code"] == code, reply.body


def new_product() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:10]
    return {"code": f"E2E.{suffix}", "name": f"E2E product {suffix}", "description": "e2e"}


def all_products(server: LocalServer) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    path = "/products?limit=100"
    while True:
        reply = server.request("GET", path, token=server.admin_token)
        assert reply.status == 200, reply
        items += reply.body["items"]
        cursor = reply.body.get("nextCursor")
        if not cursor:
            return items
        path = f"/products?limit=100&cursor={cursor}"


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def signed(key: jwk.JWK, claims: dict[str, Any]) -> str:
    token = jwt.JWT(header={"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims=claims)
    token.make_signed_token(key)
    return str(token.serialize())


# --- Discovery ---------------------------------------------------------------------


def test_jwks_publishes_public_rs256_keys_only(local_server: LocalServer) -> None:
    reply = local_server.request("GET", "/.well-known/jwks.json")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/json")
    keys = reply.body["keys"]
    assert keys
    for key in keys:
        assert {"kid", "kty", "n", "e"} <= key.keys()
        assert key["kty"] == "RSA"
        assert key["use"] == "sig"
        assert key["alg"] == "RS256"
        assert not PRIVATE_MEMBERS & key.keys(), key.keys()
    assert len({key["kid"] for key in keys}) == len(keys)


def test_openapi_document(local_server: LocalServer) -> None:
    reply = local_server.request("GET", "/openapi.json")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.body["openapi"].startswith("3.1.")
    assert "/products" in reply.body["paths"]


def test_docs_page_is_html(local_server: LocalServer) -> None:
    reply = local_server.request("GET", "/docs")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert "<html" in reply.body.lower()


def test_docs_files_come_through_the_gateway_whole(local_server: LocalServer) -> None:
    from swagger_ui_bundle import swagger_ui_path

    page = local_server.request("GET", "/docs").body
    (bundle,) = re.findall(r'src="(docs/swagger-ui-bundle\.[0-9a-f]+\.js)"', page)
    reply = local_server.request("GET", f"/{bundle}")  # urllib asks for identity
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/javascript")
    assert "content-encoding" not in reply.headers
    assert reply.body == (swagger_ui_path / "swagger-ui-bundle.js").read_text("utf-8")
    assert_problem(local_server.request("GET", "/docs/swagger-ui-bundle.js"), 404, "NOT_FOUND")


# --- Authentication and authorization ----------------------------------------------


def test_create_product_without_token_is_401(local_server: LocalServer) -> None:
    reply = local_server.request("POST", "/products", json_body=new_product())
    assert_problem(reply, 401)
    assert reply.headers["www-authenticate"].startswith("Bearer")


def test_create_product_as_plain_user_is_403(local_server: LocalServer, user_token: str) -> None:
    reply = local_server.request("POST", "/products", token=user_token, json_body=new_product())
    assert_problem(reply, 403)


def test_token_with_alg_none_is_401(local_server: LocalServer) -> None:
    claims = claims_of(local_server.admin_token)
    token = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': 'dummy'})}.{b64(claims)}."
    reply = local_server.request("POST", "/products", token=token, json_body=new_product())
    assert_problem(reply, 401)


def test_token_of_another_issuer_is_401(local_server: LocalServer) -> None:
    claims = {**claims_of(local_server.admin_token), "iss": "https://issuer.example.org/pool"}
    key = jwk.JWK.generate(kty="RSA", size=2048, kid=uuid.uuid4().hex)
    reply = local_server.request("POST", "/products", token=signed(key, claims))
    assert_problem(reply, 401)


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        ({}, 201),  # the control: a forged token with the right claims passes
        ({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}, 401),
        ({"client_id": "another-client"}, 401),
        ({"exp": int(time.time()) - 3600}, 401),
    ],
    ids=["control", "issuer", "client", "expired"],
)
def test_claims_are_checked_not_only_signatures(
    local_server: LocalServer, change: dict[str, Any], expect: int
) -> None:
    """Signed with the very key the JWKS publishes, so only the claim can be at fault."""
    claims = {**claims_of(local_server.admin_token), "jti": str(uuid.uuid4()), **change}
    token = signed(moto_signing_key(), claims)
    reply = local_server.request("POST", "/products", token=token, json_body=new_product())
    assert reply.status == expect, reply


# --- Products ------------------------------------------------------------------------


def test_admin_creates_lists_and_reads_a_product(local_server: LocalServer) -> None:
    wanted = new_product()
    created = local_server.request(
        "POST", "/products", token=local_server.admin_token, json_body=wanted
    )
    assert created.status == 201, created
    assert created.headers["content-type"].startswith("application/json")
    product = created.body
    assert {key: product[key] for key in wanted} == wanted
    assert product["productId"]

    listed = all_products(local_server)
    assert product["productId"] in {item["productId"] for item in listed}

    read = local_server.request(
        "GET", f"/products/{product['productId']}", token=local_server.admin_token
    )
    assert read.status == 200
    assert read.body == product


def test_the_demo_product_is_seeded(local_server: LocalServer) -> None:
    codes = {item["code"]: item for item in all_products(local_server)}
    assert "Rdn.Identity" in codes
    assert codes["Rdn.Identity"]["name"] == "Rdn Identity"


def test_unknown_product_is_404(local_server: LocalServer) -> None:
    reply = local_server.request("GET", "/products/prd_unknown", token=local_server.admin_token)
    assert_problem(reply, 404)


def test_duplicate_product_code_is_409(local_server: LocalServer) -> None:
    product = new_product()
    first = local_server.request(
        "POST", "/products", token=local_server.admin_token, json_body=product
    )
    assert first.status == 201
    again = local_server.request(
        "POST", "/products", token=local_server.admin_token, json_body=product
    )
    assert_problem(again, 409)


# --- Bad input: a clear 4xx, nothing written ------------------------------------------


def test_unknown_path_is_404_problem(local_server: LocalServer) -> None:
    assert_problem(local_server.request("GET", "/no/such/path"), 404, "ROUTE_NOT_FOUND")


def test_wrong_method_is_405_with_allow(local_server: LocalServer) -> None:
    reply = local_server.request("DELETE", "/products", token=local_server.admin_token)
    assert_problem(reply, 405, "METHOD_NOT_ALLOWED")
    assert {method.strip() for method in reply.headers["allow"].split(",")} == {"GET", "POST"}


def test_malformed_json_is_400(local_server: LocalServer) -> None:
    reply = local_server.request(
        "POST",
        "/products",
        token=local_server.admin_token,
        data=b'{"code": "Broken", "name": ',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(reply, 400)


@pytest.mark.parametrize(
    "size", [2 * 1024 * 1024, 100 * 1024], ids=["over-gateway", "over-handler"]
)
def test_oversized_body_is_413(local_server: LocalServer, size: int) -> None:
    """Over 1 MiB the gateway refuses unread; smaller the handler bounds the body."""
    body = json.dumps({"code": "Big", "name": "x" * size}).encode()
    reply = local_server.request(
        "POST",
        "/products",
        token=local_server.admin_token,
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert_problem(reply, 413)


def test_unknown_field_is_422_and_writes_nothing(local_server: LocalServer) -> None:
    before = all_products(local_server)
    wanted = {**new_product(), "productId": "prd_chosen_by_caller"}
    reply = local_server.request(
        "POST", "/products", token=local_server.admin_token, json_body=wanted
    )
    assert_problem(reply, 422)
    after = all_products(local_server)
    assert after == before
    assert wanted["code"] not in {item["code"] for item in after}


# --- Local files ---------------------------------------------------------------------


def test_local_secrets_are_private(local_server: LocalServer) -> None:
    data_dir = local_server.data_dir
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for name in ("admin-token", "state.json", "signing-key.pem"):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name
    assert (data_dir / "admin-token").read_text().strip() == local_server.admin_token
