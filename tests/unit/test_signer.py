"""The PEM signer: key file hygiene, and RS256 signatures checked by an independent verifier."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from jwcrypto import jwk
from licensing_core.settings import ConfigurationError
from licensing_core.tokens.jws import sign_compact
from licensing_core.tokens.signer import KmsSigner, PemSigner, thumbprint


def test_key_file_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "key.pem"
    PemSigner(str(path))
    assert path.stat().st_mode & 0o777 == 0o600
    assert (
        PemSigner(str(path)).current.kid == PemSigner(str(path)).current.kid
    )  # reused, not regenerated


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    PemSigner(str(path))
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        PemSigner(str(path))


def test_signature_verifies_with_cryptography(tmp_path: Path) -> None:
    signer = PemSigner(str(tmp_path / "key.pem"))
    signature = signer.sign(b"header.payload")
    signer.current.key.verify(signature, b"header.payload", padding.PKCS1v15(), hashes.SHA256())


def test_jwk_is_public_only_and_kid_is_the_thumbprint(tmp_path: Path) -> None:
    signer = PemSigner(str(tmp_path / "key.pem"))
    published = signer.current.to_jwk()
    assert set(published) == {"kty", "kid", "use", "alg", "n", "e"}
    assert published["kid"] == thumbprint(signer.current.key)
    assert (published["alg"], published["use"]) == ("RS256", "sig")


def test_kid_and_jwk_agree_with_an_independent_implementation(tmp_path: Path) -> None:
    """Computed without jwcrypto (its import is a cold start's cost): jwcrypto checks them."""
    signer = PemSigner(str(tmp_path / "key.pem"))
    reference = jwk.JWK.from_pyca(signer.current.key)
    published = signer.current.to_jwk()
    assert published["kid"] == reference.thumbprint()
    exported = reference.export_public(as_dict=True)
    assert {k: published[k] for k in ("kty", "n", "e")} == {
        k: exported[k] for k in ("kty", "n", "e")
    }


def test_compact_jws_verifies_with_pyjwt(tmp_path: Path) -> None:
    signer = PemSigner(str(tmp_path / "key.pem"))
    token = sign_compact({"sub": "lic_1", "n": 1}, typ="license+jwt", signer=signer)
    header = pyjwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": signer.current.kid, "typ": "license+jwt"}
    key = pyjwt.PyJWK(signer.current.to_jwk())
    assert pyjwt.decode(token, key=key, algorithms=["RS256"], options={"verify_exp": False}) == {
        "sub": "lic_1",
        "n": 1,
    }


def test_rotation_publishes_previous_keys_until_they_are_retired(tmp_path: Path) -> None:
    from licensing_core.jose import TokenError
    from licensing_core.tokens.verify import verify_token

    old, new = str(tmp_path / "a.pem"), str(tmp_path / "b.pem")
    claims = {"iss": "https://licensing.test", "sub": "lic_1", "exp": 2**33}
    old_token = sign_compact(claims, typ="license+jwt", signer=PemSigner(old))
    rotated = PemSigner(new, previous_refs=[old])
    assert [k.kid for k in rotated.published] == [rotated.current.kid, PemSigner(old).current.kid]
    new_token = sign_compact(claims, typ="license+jwt", signer=rotated)
    assert pyjwt.get_unverified_header(new_token)["kid"] == rotated.current.kid
    for token in (old_token, new_token):
        assert verify_token(token, typ="license+jwt", now=0, signer=rotated)["sub"] == "lic_1"
    retired = PemSigner(new)
    with pytest.raises(TokenError) as raised:
        verify_token(old_token, typ="license+jwt", now=0, signer=retired)
    assert raised.value.code == "UNKNOWN_KEY_ID"


class _Kms:
    """KMS as AWS documents ``Sign`` with RSASSA_PKCS1_V1_5_SHA_256: a RAW message of 4 KiB
    at most is hashed by KMS, a DIGEST is the SHA-256 already (moto ignores the type)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.calls: list[tuple[str, int]] = []

    def sign(self, **request: Any) -> dict[str, bytes]:
        message, kind = request["Message"], request["MessageType"]
        self.calls.append((kind, len(message)))
        assert request["SigningAlgorithm"] == "RSASSA_PKCS1_V1_5_SHA_256"
        if kind == "RAW":
            assert len(message) <= 4096, "KMS refuses RAW messages over 4 KiB"
            return {"Signature": self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())}
        assert kind == "DIGEST" and len(message) == 32
        prehashed = utils.Prehashed(hashes.SHA256())
        return {"Signature": self.key.sign(message, padding.PKCS1v15(), prehashed)}


@pytest.mark.parametrize("size", [100, 4096, 4097, 200_000])
def test_kms_signs_raw_up_to_4_kib_and_a_digest_beyond(size: int) -> None:
    """A status list's signing input is far over 4 KiB: it goes as its SHA-256 digest, and
    the signature verifies over the whole input as RS256."""
    kms = _Kms()
    message = os.urandom(size)
    signature = KmsSigner("key-1", kms=kms).sign(message)
    kms.key.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    assert kms.calls == ([("RAW", size)] if size <= 4096 else [("DIGEST", 32)])
