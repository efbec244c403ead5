"""Discovery endpoints and the KMS signer on moto."""

from __future__ import annotations

import base64
import gzip
import json
import re
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from licensing_core import openapi
from licensing_core.settings import reset_settings
from licensing_core.tokens.jws import sign_compact
from licensing_core.tokens.signer import KmsSigner, get_signer

from tests.integration.conftest import CognitoPool
from tests.support import api_event, invoke, load_handler

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
#: What a Lambda function may return to API Gateway (synchronous invocation).
LAMBDA_RESPONSE_LIMIT = 6 * 2**20


def test_jwks_publishes_the_signing_key_without_private_members(aws: CognitoPool) -> None:
    response = invoke("GET", "/.well-known/jwks.json")
    assert response.status == 200 and "max-age" in response.headers["cache-control"]
    (key,) = response.json["keys"]
    assert {key["kty"], key["alg"], key["use"]} == {"RSA", "RS256", "sig"}
    assert key["kid"] and key["n"] and key["e"] == "AQAB"
    assert not PRIVATE_MEMBERS & set(key)


def test_license_configuration_points_at_this_api(aws: CognitoPool) -> None:
    document = invoke("GET", "/.well-known/license-configuration").json
    assert document["issuer"] == "https://licensing.test"
    assert document["jwks_uri"] == "https://api.test/.well-known/jwks.json"
    assert document["token_signing_alg_values_supported"] == ["RS256"]
    assert document["token_encryption_enc_values_supported"] == ["A256CBC-HS512"]


def test_license_configuration_keeps_the_seeds_names_beside_ours(aws: CognitoPool) -> None:
    """Clients written against the seed read its names: same values as ours."""
    document = invoke("GET", "/.well-known/license-configuration").json
    assert document["activate_endpoint"] == document["activation_endpoint"]
    assert document["activate_endpoint"] == "https://api.test/license-activations/activate"
    assert document["signing_algorithms"] == document["token_signing_alg_values_supported"]
    assert document["encryption_algorithms"] == [
        *document["token_encryption_alg_values_supported"],
        *document["token_encryption_enc_values_supported"],
    ]
    assert document["encryption_algorithms"] == ["RSA-OAEP", "A256CBC-HS512"]
    described = openapi.build()["components"]["schemas"]["LicenseConfiguration"]["properties"]
    for alias in ("activate_endpoint", "signing_algorithms", "encryption_algorithms"):
        assert "kept for clients written against the seed" in described[alias]["description"]


def test_openapi_and_docs_are_served(aws: CognitoPool) -> None:
    assert invoke("GET", "/openapi.json").json["openapi"].startswith("3.1")
    docs = invoke("GET", "/docs")
    assert docs.headers["content-type"] == "text/html"
    assert (
        "swagger-ui" in docs.text
        and "default-src 'none'" in docs.headers["content-security-policy"]
    )


def _asset(name: str, accept_encoding: str) -> tuple[dict[str, Any], bytes]:
    """The Lambda's answer for ``GET /docs/{name}``, and its body as the client reads it."""
    route, event = api_event("GET", f"/docs/{name}", headers={"accept-encoding": accept_encoding})
    result: dict[str, Any] = load_handler(route.function).handler(event, None)
    assert len(json.dumps(result)) < LAMBDA_RESPONSE_LIMIT
    if result["statusCode"] != 200:
        return result, b""
    assert result["isBase64Encoded"] is True
    body = base64.b64decode(result["body"])
    if result["headers"].get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return result, body


def test_docs_assets_are_served_by_the_page_relative_names(aws: CognitoPool) -> None:
    page = invoke("GET", "/docs").text
    names = re.findall(r'(?:src|href)="docs/([^"]+)"', page)
    assert {name.split(".")[0] for name in names} == {"swagger-ui-bundle", "swagger-ui", "docs"}
    for name in names:
        result, body = _asset(name, "gzip, deflate, br")
        assert result["statusCode"] == 200 and body
        assert body == _asset(name, "identity")[1]
        assert result["headers"]["content-type"].startswith(
            "text/javascript" if name.endswith(".js") else "text/css"
        )
        assert result["headers"]["cache-control"] == "public, max-age=31536000, immutable"
    (bundle,) = [name for name in names if name.startswith("swagger-ui-bundle.")]
    assert _asset(bundle, "gzip")[0]["headers"]["content-encoding"] == "gzip"
    assert "content-encoding" not in _asset(bundle, "identity")[0]["headers"]


def test_an_unlisted_docs_asset_is_a_404_problem(aws: CognitoPool) -> None:
    for name in ("swagger-ui-bundle.js", "index.html", "..", "swagger-ui.0000000000000000.css"):
        response = invoke("GET", f"/docs/{name}")
        assert response.status == 404 and response.json["code"] == "NOT_FOUND"


@pytest.fixture
def kms_key(aws: CognitoPool, monkeypatch: pytest.MonkeyPatch) -> str:
    kms = boto3.client("kms", region_name="us-east-1")
    key_id: str = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    monkeypatch.setenv("LICENSING_SIGNER", "kms")
    monkeypatch.setenv("LICENSING_KMS_KEY_ID", key_id)
    reset_settings()
    return key_id


def test_kms_signatures_verify_with_cryptography(kms_key: str) -> None:
    signer = get_signer()
    assert isinstance(signer, KmsSigner)
    token = sign_compact({"sub": "lic_1"}, typ="license+jwt", signer=signer)
    signing_input, _, signature = token.rpartition(".")
    from licensing_core.jose import b64url_decode

    signer.current.key.verify(
        b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    (published,) = invoke("GET", "/.well-known/jwks.json").json["keys"]
    assert published["kid"] == signer.current.kid
