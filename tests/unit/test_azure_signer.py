"""The Azure Key Vault signer, driven through the real azure SDK against a fake vault.

Every signature is checked with keys the fake vault holds (``cryptography``, PyJWT,
jwcrypto), never with the signer's own code.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import jwt as pyjwt
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwcrypto import jwk
from jwcrypto import jws as jwcrypto_jws
from licensing_core.domain.errors import Unavailable
from licensing_core.settings import ConfigurationError, reset_settings
from licensing_core.tokens import azure
from licensing_core.tokens.azure import AzureKeyVaultSigner
from licensing_core.tokens.jws import sign_compact
from licensing_core.tokens.signer import get_signer

from tests.fakes.azure_keyvault import (
    PRIVATE_MEMBERS,
    TENANT,
    FakeCredential,
    FakeKeyVault,
    b64url,
    b64url_decode,
)

CLAIMS = {"sub": "lic_1", "n": 1}


@pytest.fixture(scope="module")
def key_a() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def key_b() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def vault() -> FakeKeyVault:
    return FakeKeyVault()


@pytest.fixture
def credential() -> FakeCredential:
    return FakeCredential()


def signer_for(
    vault: FakeKeyVault, credential: FakeCredential, key_ref: str, *previous: str
) -> AzureKeyVaultSigner:
    return AzureKeyVaultSigner(
        key_ref, previous, credential=credential, transport=vault.transport()
    )


def thumbprint_of(key: rsa.RSAPrivateKey) -> str:
    """RFC 7638 thumbprint computed here, independently of the signer module."""
    thumb: str = jwk.JWK.from_pyca(key.public_key()).thumbprint()
    return thumb


def verify_with_pyjwt(token: str, key: rsa.RSAPrivateKey) -> dict[str, object]:
    decoded: dict[str, object] = pyjwt.decode(
        token, key=key.public_key(), algorithms=["RS256"], options={"verify_exp": False}
    )
    return decoded


def verify_with_jwcrypto(token: str, key: rsa.RSAPrivateKey) -> None:
    parsed = jwcrypto_jws.JWS()
    parsed.deserialize(token)
    parsed.verify(jwk.JWK.from_pyca(key.public_key()), alg="RS256")


def test_signature_verifies_with_the_vault_key(
    vault: FakeKeyVault, credential: FakeCredential, key_a: rsa.RSAPrivateKey
) -> None:
    signer = signer_for(vault, credential, vault.add_rsa_key("signing", key_a))
    signature = signer.sign(b"header.payload")
    key_a.public_key().verify(signature, b"header.payload", padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        key_a.public_key().verify(signature, b"header.other", padding.PKCS1v15(), hashes.SHA256())


def test_kid_is_the_thumbprint_and_the_jwk_is_public(
    vault: FakeKeyVault, credential: FakeCredential, key_a: rsa.RSAPrivateKey
) -> None:
    signer = signer_for(vault, credential, vault.add_rsa_key("signing", key_a))
    assert signer.current.kid == thumbprint_of(key_a)
    published = signer.current.to_jwk()
    assert set(published) == {"kty", "kid", "use", "alg", "n", "e"}
    assert not PRIVATE_MEMBERS & set(published)
    numbers = key_a.public_key().public_numbers()
    assert published["n"] == b64url(numbers.n.to_bytes(256, "big"))
    assert published["e"] == b64url(numbers.e.to_bytes(3, "big"))


def test_compact_jws_verifies_with_pyjwt_and_jwcrypto(
    vault: FakeKeyVault, credential: FakeCredential, key_a: rsa.RSAPrivateKey
) -> None:
    signer = signer_for(vault, credential, vault.add_rsa_key("signing", key_a))
    token = sign_compact(CLAIMS, typ="license+jwt", signer=signer)
    assert pyjwt.get_unverified_header(token) == {
        "alg": "RS256",
        "kid": thumbprint_of(key_a),
        "typ": "license+jwt",
    }
    assert verify_with_pyjwt(token, key_a) == CLAIMS
    verify_with_jwcrypto(token, key_a)
    # and through the published JWK, as a relying party would
    published = pyjwt.PyJWK(signer.current.to_jwk())
    assert pyjwt.decode(token, key=published, algorithms=["RS256"]) == CLAIMS


def test_only_digests_travel_and_the_challenge_is_honoured(
    vault: FakeKeyVault, credential: FakeCredential, key_a: rsa.RSAPrivateKey
) -> None:
    signer = signer_for(vault, credential, vault.add_rsa_key("signing", key_a))
    sign_compact(CLAIMS, typ="license+jwt", signer=signer)
    signer.sign(b"again")

    private = key_a.private_numbers()
    secrets = [
        b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))
        for value in (private.d, private.p, private.q, private.dmp1, private.dmq1, private.iqmp)
    ]
    for request in vault.requests:
        assert request.method == "GET" or (request.method, request.path[-5:]) == ("POST", "/sign")
        body = request.body.decode()
        assert not any(secret in body for secret in secrets)
        payload = request.json()
        assert payload is None or set(payload) == {"alg", "value"}
    signs = vault.sign_requests()
    assert len(signs) == 2
    assert all(r.json()["alg"] == "RS256" for r in signs)
    assert b64url_decode(signs[-1].json()["value"]) == hashlib.sha256(b"again").digest()
    # Key Vault's challenge: the first request carries no token, then one for the vault.
    assert "authorization" not in vault.requests[0].headers
    scopes, options = credential.requests[0]
    assert scopes == ("https://vault.azure.net/.default",)
    assert options.get("tenant_id") == TENANT


def test_versionless_id_pins_the_latest_version(
    vault: FakeKeyVault,
    credential: FakeCredential,
    key_a: rsa.RSAPrivateKey,
    key_b: rsa.RSAPrivateKey,
) -> None:
    vault.add_rsa_key("signing", key_a)
    latest = vault.add_rsa_key("signing", key_b)
    signer = signer_for(vault, credential, vault.key_id("signing"))
    assert signer.current.kid == thumbprint_of(key_b)
    assert signer.signing_key_id == latest

    # a rotation in the vault after resolution changes neither the kid nor the signing key
    vault.add_rsa_key("signing", key_a)
    token = sign_compact(CLAIMS, typ="license+jwt", signer=signer)
    assert pyjwt.get_unverified_header(token)["kid"] == thumbprint_of(key_b)
    assert verify_with_pyjwt(token, key_b) == CLAIMS
    verify_with_jwcrypto(token, key_b)
    assert [r.path for r in vault.sign_requests()] == [
        f"/keys/signing/{latest.rsplit('/', 1)[1]}/sign"
    ]


def test_rotation_publishes_both_keys_and_signs_with_the_new_one(
    vault: FakeKeyVault,
    credential: FakeCredential,
    key_a: rsa.RSAPrivateKey,
    key_b: rsa.RSAPrivateKey,
) -> None:
    id_a = vault.add_rsa_key("signing", key_a)
    old_token = sign_compact(CLAIMS, typ="license+jwt", signer=signer_for(vault, credential, id_a))

    id_b = vault.add_rsa_key("signing", key_b)
    signer = signer_for(vault, credential, id_b, id_a)
    assert [key.kid for key in signer.published] == [thumbprint_of(key_b), thumbprint_of(key_a)]
    new_token = sign_compact(CLAIMS, typ="license+jwt", signer=signer)
    assert pyjwt.get_unverified_header(new_token)["kid"] == thumbprint_of(key_b)
    assert verify_with_pyjwt(new_token, key_b) == CLAIMS
    with pytest.raises(pyjwt.InvalidSignatureError):
        verify_with_pyjwt(new_token, key_a)
    assert vault.sign_requests()[-1].path == f"/keys/signing/{id_b.rsplit('/', 1)[1]}/sign"

    # a relying party picks the key by kid from the published JWKS
    jwks = pyjwt.PyJWKSet.from_dict({"keys": [key.to_jwk() for key in signer.published]})
    for token in (old_token, new_token):
        kid = pyjwt.get_unverified_header(token)["kid"]
        assert pyjwt.decode(token, key=jwks[kid], algorithms=["RS256"]) == CLAIMS
    old_kid = pyjwt.get_unverified_header(old_token)["kid"]
    assert old_kid == thumbprint_of(key_a)
    verify_with_jwcrypto(old_token, key_a)


@pytest.mark.parametrize("status", [500, 503])
def test_a_failing_vault_is_unavailable(
    vault: FakeKeyVault, credential: FakeCredential, key_a: rsa.RSAPrivateKey, status: int
) -> None:
    signer = signer_for(vault, credential, vault.add_rsa_key("signing", key_a))
    assert signer.current.kid == thumbprint_of(key_a)
    vault.sign_status = status
    with pytest.raises(Unavailable, match="the signing key vault is unavailable") as raised:
        signer.sign(b"header.payload")
    assert raised.value.code == "SERVICE_UNAVAILABLE"
    assert len(vault.sign_requests()) == 1 + azure.CLIENT_DEFAULTS["retry_total"]


def test_throttling_waits_at_most_the_cap_then_is_unavailable(
    vault: FakeKeyVault, credential: FakeCredential, key_a: rsa.RSAPrivateKey
) -> None:
    transport = vault.transport()
    signer = AzureKeyVaultSigner(
        vault.add_rsa_key("signing", key_a), credential=credential, transport=transport
    )
    signer.current  # noqa: B018 - resolve the key before the vault starts throttling
    vault.sign_status, vault.sign_headers = 429, {"Retry-After": "30"}
    with pytest.raises(Unavailable):
        signer.sign(b"header.payload")
    assert transport.slept == [azure.MAX_RETRY_AFTER_SECONDS]  # not 30 s inside a 10 s Lambda
    assert len(vault.sign_requests()) == 2


def test_an_unreachable_vault_is_unavailable(
    vault: FakeKeyVault, credential: FakeCredential, key_a: rsa.RSAPrivateKey
) -> None:
    signer = signer_for(vault, credential, vault.add_rsa_key("signing", key_a))
    signer.current  # noqa: B018 - resolve the key while the vault is reachable
    vault.sign_unreachable = True
    with pytest.raises(Unavailable):
        signer.sign(b"header.payload")


def test_an_ec_key_is_a_configuration_error(
    vault: FakeKeyVault, credential: FakeCredential
) -> None:
    signer = signer_for(vault, credential, vault.add_ec_key("signing"))
    with pytest.raises(ConfigurationError, match="not an RSA key"):
        signer.current  # noqa: B018
    with pytest.raises(ConfigurationError, match="not an RSA key"):
        signer.sign(b"header.payload")
    assert vault.sign_requests() == []


def test_a_missing_or_forbidden_key_is_a_configuration_error(
    vault: FakeKeyVault, credential: FakeCredential, key_a: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(ConfigurationError, match="404"):
        signer_for(vault, credential, vault.key_id("absent")).current  # noqa: B018
    vault.forbidden.add("signing")
    with pytest.raises(ConfigurationError, match="403"):
        signer_for(vault, credential, vault.add_rsa_key("signing", key_a)).current  # noqa: B018


@pytest.mark.parametrize(
    "key_ref",
    [
        "not a url",
        "https://vault.vault.azure.net/secrets/signing/abc",
        "http://vault.vault.azure.net/keys/signing/abc",
        "https://vault.vault.azure.net/keys",
    ],
)
def test_a_malformed_key_id_is_a_configuration_error(
    credential: FakeCredential, key_ref: str
) -> None:
    with pytest.raises(ConfigurationError, match="not a Key Vault key identifier"):
        AzureKeyVaultSigner(key_ref, credential=credential)


def test_get_signer_builds_an_azure_signer_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    vault: FakeKeyVault,
    credential: FakeCredential,
    key_a: rsa.RSAPrivateKey,
    key_b: rsa.RSAPrivateKey,
) -> None:
    id_a = vault.add_rsa_key("signing", key_a)
    id_b = vault.add_rsa_key("signing", key_b)
    monkeypatch.setenv("LICENSING_SIGNER", "azure")
    monkeypatch.setenv("LICENSING_AZURE_KEY_ID", id_b)
    monkeypatch.setenv("LICENSING_PREVIOUS_SIGNING_KEYS", id_a)
    monkeypatch.setattr(azure, "default_credential", lambda: credential)
    monkeypatch.setitem(azure.CLIENT_DEFAULTS, "transport", vault.transport())
    reset_settings()

    signer = get_signer()
    assert isinstance(signer, AzureKeyVaultSigner)
    assert [key.kid for key in signer.published] == [thumbprint_of(key_b), thumbprint_of(key_a)]
    token = sign_compact(CLAIMS, typ="license+jwt", signer=signer)
    assert verify_with_pyjwt(token, key_b) == CLAIMS
    assert credential.requests  # the patched credential is the one the SDK used


def test_get_signer_requires_a_key_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICENSING_SIGNER", "azure")
    reset_settings()
    with pytest.raises(ConfigurationError, match="LICENSING_AZURE_KEY_ID"):
        get_signer()


def test_the_signer_module_does_not_import_azure() -> None:
    code = (
        "import sys, licensing_core.tokens.signer\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'azure')\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run(  # noqa: S603 - a constant program, run by this interpreter
        [sys.executable, "-c", code],
        check=True,
        env={"PYTHONPATH": "layers/licensing_core/python"},
        cwd=Path(__file__).resolve().parents[2],
    )


def test_credentials_come_from_the_secret_the_stack_names(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from azure.identity import ClientSecretCredential
    from licensing_core.settings import reset_settings
    from licensing_core.tokens import azure as azure_module
    from moto import mock_aws

    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="azure-signer",
            SecretString='{"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"}',
        )["ARN"]
        monkeypatch.setenv("LICENSING_AZURE_CREDENTIALS_SECRET_ARN", arn)
        reset_settings()
        assert isinstance(azure_module.default_credential(), ClientSecretCredential)
