"""Discovery endpoints and the KMS signer on moto."""

from __future__ import annotations

import boto3
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from licensing_core.settings import reset_settings
from licensing_core.tokens.jws import sign_compact
from licensing_core.tokens.signer import KmsSigner, get_signer

from tests.integration.conftest import CognitoPool
from tests.support import invoke

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


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


def test_openapi_and_docs_are_served(aws: CognitoPool) -> None:
    assert invoke("GET", "/openapi.json").json["openapi"].startswith("3.1")
    docs = invoke("GET", "/docs")
    assert docs.headers["content-type"] == "text/html"
    assert (
        "swagger-ui" in docs.text
        and "default-src 'none'" in docs.headers["content-security-policy"]
    )


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
    from licensing_core.tokens.jose import b64url_decode

    signer.current.key.verify(
        b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    (published,) = invoke("GET", "/.well-known/jwks.json").json["keys"]
    assert published["kid"] == signer.current.kid
