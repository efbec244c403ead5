"""Offline verification: everything pinned, tokens built by jwcrypto (an independent
implementation), the SDK's own JWE decryption checked against jwcrypto's encryption."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk
from licensing_client import InvalidToken, KeySet, jose
from sdk_fakes import ISSUER, PRODUCT, T0, Issuer, b64, encrypt, license_claims


def verify(
    issuer: Issuer, token: str, *, typ: str = "license+jwt", now: float = T0
) -> dict[str, Any]:
    keys = KeySet.from_jwks(issuer.jwks)
    return jose.verify_jws(
        token, typ=typ, keys=keys.get, issuer=ISSUER, audience=PRODUCT, now=now, leeway=30
    )


def code_of(issuer: Issuer, token: str, **kwargs: Any) -> str:
    with pytest.raises(InvalidToken) as caught:
        verify(issuer, token, **kwargs)
    return caught.value.code


def test_a_valid_license_key_verifies(issuer: Issuer) -> None:
    claims = verify(issuer, issuer.sign(license_claims()))
    assert claims["sub"] == "lic_1"
    assert claims["features"][0] == "audit_log"


def test_typ_is_compared_case_insensitively_with_optional_application_prefix(
    issuer: Issuer,
) -> None:
    assert verify(issuer, issuer.sign(license_claims(), typ="application/LICENSE+JWT"))


@pytest.mark.parametrize(
    ("typ", "expected"),
    [("activation+jwt", "license+jwt"), ("license+jwt", "activation+jwt"), ("JWT", "license+jwt")],
)
def test_token_types_are_never_interchangeable(issuer: Issuer, typ: str, expected: str) -> None:
    token = issuer.sign(license_claims(), typ=typ)
    assert code_of(issuer, token, typ=expected) == "WRONG_TOKEN_TYPE"


def test_a_token_without_typ_is_refused(issuer: Issuer) -> None:
    assert code_of(issuer, issuer.sign(license_claims(), typ=None)) == "WRONG_TOKEN_TYPE"


def test_alg_none_is_refused(issuer: Issuer) -> None:
    header = b64(json.dumps({"alg": "none", "kid": "key-1", "typ": "license+jwt"}).encode())
    payload = b64(json.dumps(license_claims()).encode())
    assert code_of(issuer, f"{header}.{payload}.AAAA") == "SIGNATURE_INVALID"


def test_hs256_with_the_public_key_as_secret_is_refused(issuer: Issuer) -> None:
    """The classic algorithm confusion: HMAC keyed with the public key's PEM."""
    import hashlib
    import hmac

    header = b64(json.dumps({"alg": "HS256", "kid": "key-1", "typ": "license+jwt"}).encode())
    payload = b64(json.dumps(license_claims()).encode())
    secret = issuer.key.export_to_pem()
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert code_of(issuer, f"{header}.{payload}.{b64(mac)}") == "SIGNATURE_INVALID"


@pytest.mark.parametrize("alg", ["PS256", "RS512"])
def test_other_rsa_algorithms_are_refused(issuer: Issuer, alg: str) -> None:
    assert code_of(issuer, issuer.sign(license_claims(), alg=alg)) == "SIGNATURE_INVALID"


def test_a_forged_signature_is_refused(issuer: Issuer, other_key: jwk.JWK) -> None:
    """Signed by another key but claiming our kid."""
    forged = issuer.sign(license_claims(), key=other_key, kid="key-1")
    assert code_of(issuer, forged) == "SIGNATURE_INVALID"


def test_tampered_claims_are_refused(issuer: Issuer) -> None:
    header, _, signature = issuer.sign(license_claims()).split(".")
    payload = b64(json.dumps(license_claims(features=["everything"])).encode())
    assert code_of(issuer, f"{header}.{payload}.{signature}") == "SIGNATURE_INVALID"


def test_embedded_key_headers_are_never_followed(issuer: Issuer, other_key: jwk.JWK) -> None:
    """jwk / jku / x5u in the header name the attacker's key: ignored, kid decides."""
    public = json.loads(other_key.export_public())
    for header in (
        {"jwk": public},
        {"jku": "https://attacker.example/jwks.json"},
        {"x5u": "https://attacker.example/cert.pem"},
    ):
        token = issuer.sign(license_claims(), key=other_key, **header)
        assert code_of(issuer, token) == "UNKNOWN_KEY_ID"


def test_crit_is_refused(issuer: Issuer) -> None:
    header = {"alg": "RS256", "kid": "key-1", "typ": "license+jwt", "crit": ["exp"], "exp": 1}
    assert code_of(issuer, issuer.sign_raw(header, license_claims())) == "MALFORMED"


def test_claims_that_are_not_an_object_are_refused(issuer: Issuer) -> None:
    header = {"alg": "RS256", "kid": "key-1", "typ": "license+jwt"}
    assert code_of(issuer, issuer.sign_raw(header, ["a", "b"])) == "MALFORMED"


def test_every_token_has_one_spelling(issuer: Issuer) -> None:
    """A signature spelled with non-zero unused bits decodes to the same bytes: refused."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    token = issuer.sign(license_claims())
    signing_input, _, signature = token.rpartition(".")
    last = alphabet.index(signature[-1])
    assert len(signature) % 4 == 2  # 256 bytes: four unused bits in the last character
    for bits in range(1, 16):
        respelled = f"{signing_input}.{signature[:-1]}{alphabet[last | bits]}"
        assert code_of(issuer, respelled) == "MALFORMED"


@pytest.mark.parametrize(
    ("header", "claims"),
    [
        ('{"alg": "RS256", "kid": "key-1", "typ": "license+jwt"}', ', "sub": "lic_2"}'),
        ('{"alg": "RS256", "kid": "key-1", "typ": "license+jwt", "typ": "x"}', "}"),
    ],
)
def test_a_member_named_twice_is_refused(issuer: Issuer, header: str, claims: str) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    body = json.dumps(license_claims())[:-1] + claims
    signing_input = f"{b64(header.encode())}.{b64(body.encode())}"
    signature = issuer.key.get_op_key("sign").sign(
        signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert code_of(issuer, f"{signing_input}.{b64(signature)}") == "MALFORMED"


def test_the_raw_signer_agrees_with_jwcrypto(issuer: Issuer) -> None:
    header = {"alg": "RS256", "kid": "key-1", "typ": "license+jwt"}
    assert verify(issuer, issuer.sign_raw(header, license_claims()))["sub"] == "lic_1"


def test_an_unknown_kid_is_refused(issuer: Issuer, other_key: jwk.JWK) -> None:
    assert code_of(issuer, issuer.sign(license_claims(), key=other_key)) == "UNKNOWN_KEY_ID"


def test_a_missing_kid_is_refused(issuer: Issuer) -> None:
    assert code_of(issuer, issuer.sign(license_claims(), kid=None)) == "UNKNOWN_KEY_ID"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"exp": None}, "MALFORMED"),
        ({"exp": "tomorrow"}, "MALFORMED"),
        ({"exp": True}, "MALFORMED"),
        ({"exp": int(T0) - 31}, "EXPIRED"),
        ({"nbf": int(T0) + 31}, "NOT_YET_VALID"),
        ({"nbf": "now"}, "MALFORMED"),
        ({"iat": "now"}, "MALFORMED"),
        ({"iss": "https://evil.test"}, "WRONG_ISSUER"),
        ({"iss": None}, "WRONG_ISSUER"),
        ({"aud": "Other.Product"}, "WRONG_AUDIENCE"),
        ({"aud": ["Other.Product"]}, "WRONG_AUDIENCE"),
        ({"aud": None}, "WRONG_AUDIENCE"),
        ({"sub": None}, "MALFORMED"),
    ],
)
def test_registered_claims_are_checked(
    issuer: Issuer, overrides: dict[str, Any], code: str
) -> None:
    assert code_of(issuer, issuer.sign(license_claims(**overrides))) == code


def test_the_leeway_is_small_and_explicit(issuer: Issuer) -> None:
    assert verify(issuer, issuer.sign(license_claims(exp=int(T0) - 29)))
    assert verify(issuer, issuer.sign(license_claims(nbf=int(T0) + 29)))
    assert verify(issuer, issuer.sign(license_claims(aud=["x", PRODUCT])))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "a..c",
        "a.b.c=",
        "a+b.c.d",
        "é.b.c",
        12,
        b64(b'{"alg":"RS256","kid":"key-1","typ":"license+jwt"}') + ".e30.A",  # not base64
        "bm90IGpzb24.e30.AAAA",  # header is not JSON
        "WzFd.e30.AAAA",  # header is a list
    ],
)
def test_malformed_tokens_are_refused(issuer: Issuer, token: Any) -> None:
    assert code_of(issuer, token) == "MALFORMED"


def test_size_is_bounded_before_parsing(issuer: Issuer) -> None:
    token = issuer.sign(license_claims(padding="x" * (16 * 1024)))
    assert code_of(issuer, token) == "MALFORMED"


def test_jwks_parsing_keeps_only_rsa_signing_keys_of_2048_bits_or_more(issuer: Issuer) -> None:
    small = jwk.JWK.generate(kty="RSA", size=1024, kid="small")
    ec = jwk.JWK.generate(kty="EC", crv="P-256", kid="ec")
    enc = json.loads(issuer.key.export_public()) | {"kid": "enc", "use": "enc"}
    ps = json.loads(issuer.key.export_public()) | {"kid": "ps", "alg": "PS256"}
    nokid = {k: v for k, v in json.loads(issuer.key.export_public()).items() if k != "kid"}
    jwks = {
        "keys": [
            *issuer.jwks["keys"],
            json.loads(small.export_public()),
            json.loads(ec.export_public()),
            enc,
            ps,
            nokid,
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            "not a key",
        ]
    }
    keys = KeySet.from_jwks(jwks)
    assert keys.kids == {"key-1"}
    assert all("d" not in member for member in keys.jwks["keys"])  # public members only
    assert repr(keys) == "KeySet(kids=['key-1'])"


def test_a_private_jwk_contributes_only_its_public_half(issuer: Issuer) -> None:
    private = json.loads(issuer.key.export_private())
    keys = KeySet.from_jwks({"keys": [private]})
    assert set(keys.jwks["keys"][0]) <= {"kty", "kid", "use", "alg", "n", "e"}


# -- JWE ------------------------------------------------------------------------------


@pytest.fixture
def nested(issuer: Issuer) -> str:
    return issuer.sign(license_claims(cid="cli_1", machineId="m"), typ="activation+jwt")


def test_jwe_from_jwcrypto_decrypts_to_the_nested_jws(
    nested: str, session_machine_key: rsa.RSAPrivateKey, issuer: Issuer
) -> None:
    token = encrypt(nested, session_machine_key.public_key())
    assert token.count(".") == 4
    assert jose.decrypt_jwe(token, session_machine_key) == nested
    claims = verify(issuer, jose.decrypt_jwe(token, session_machine_key), typ="activation+jwt")
    assert claims["cid"] == "cli_1"


def test_jwe_for_another_machine_does_not_decrypt(nested: str) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    mine = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = encrypt(nested, stranger.public_key())
    with pytest.raises(InvalidToken) as caught:
        jose.decrypt_jwe(token, mine)
    assert caught.value.code == "DECRYPTION_FAILED"


@pytest.mark.parametrize("part", [1, 2, 3, 4])
def test_any_tampered_jwe_part_fails_the_same_way(
    nested: str, session_machine_key: rsa.RSAPrivateKey, part: int
) -> None:
    parts = encrypt(nested, session_machine_key.public_key()).split(".")
    raw = bytearray(jose.b64url_decode(parts[part]))
    raw[len(raw) // 2] ^= 1
    parts[part] = b64(bytes(raw))
    with pytest.raises(InvalidToken) as caught:
        jose.decrypt_jwe(".".join(parts), session_machine_key)
    assert caught.value.code == "DECRYPTION_FAILED"


def test_a_tampered_protected_header_fails_authentication(
    nested: str, session_machine_key: rsa.RSAPrivateKey
) -> None:
    parts = encrypt(nested, session_machine_key.public_key()).split(".")
    header = json.loads(jose.b64url_decode(parts[0])) | {"kid": "x"}
    parts[0] = b64(json.dumps(header).encode())
    with pytest.raises(InvalidToken) as caught:
        jose.decrypt_jwe(".".join(parts), session_machine_key)
    assert caught.value.code == "DECRYPTION_FAILED"


@pytest.mark.parametrize(
    ("alg", "enc", "cty", "code"),
    [
        ("RSA-OAEP-256", "A256CBC-HS512", "JWT", "DECRYPTION_FAILED"),
        ("RSA1_5", "A256CBC-HS512", "JWT", "DECRYPTION_FAILED"),
        ("RSA-OAEP", "A256GCM", "JWT", "DECRYPTION_FAILED"),
        ("RSA-OAEP", "A128CBC-HS256", "JWT", "DECRYPTION_FAILED"),
        ("RSA-OAEP", "A256CBC-HS512", None, "MALFORMED"),
        ("RSA-OAEP", "A256CBC-HS512", "json", "MALFORMED"),
    ],
)
def test_jwe_algorithms_are_pinned(
    nested: str,
    session_machine_key: rsa.RSAPrivateKey,
    alg: str,
    enc: str,
    cty: str | None,
    code: str,
) -> None:
    token = encrypt(nested, session_machine_key.public_key(), alg=alg, enc=enc, cty=cty)
    with pytest.raises(InvalidToken) as caught:
        jose.decrypt_jwe(token, session_machine_key)
    assert caught.value.code == code


def test_jwe_with_zip_or_crit_is_refused(
    nested: str, session_machine_key: rsa.RSAPrivateKey
) -> None:
    parts = encrypt(nested, session_machine_key.public_key()).split(".")
    for extra in ({"zip": "DEF"}, {"crit": ["exp"]}):
        header = json.loads(jose.b64url_decode(parts[0])) | extra
        token = ".".join([b64(json.dumps(header).encode()), *parts[1:]])
        with pytest.raises(InvalidToken) as caught:
            jose.decrypt_jwe(token, session_machine_key)
        assert caught.value.code == "MALFORMED"


@pytest.mark.parametrize("token", ["a.b.c", "a.b.c.d.e.f", "a.b..d.e", "x" * 20000])
def test_malformed_jwe_is_refused(token: str, session_machine_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(InvalidToken) as caught:
        jose.decrypt_jwe(token, session_machine_key)
    assert caught.value.code == "MALFORMED"


def test_errors_never_show_the_token(issuer: Issuer) -> None:
    token = issuer.sign(license_claims(exp=int(T0) - 1000))
    with pytest.raises(InvalidToken) as caught:
        verify(issuer, token)
    for text in (str(caught.value), repr(caught.value)):
        assert token not in text
        assert token.split(".")[1] not in text
