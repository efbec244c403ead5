"""Strict, small JOSE: RS256 JWS verification and RSA-OAEP + A256CBC-HS512 JWE decryption.

Nothing is negotiated with the token: the algorithms are pinned, the ``typ`` is
checked, ``crit`` is refused, the size is bounded before anything is parsed, and key
headers (``jku``, ``x5u``, ``jwk``, ``x5c``) are never looked at: keys come only from
the issuer's JWKS (fetched from the configured server, or embedded by the app).

Built on ``cryptography`` only, and fast: public keys are parsed once per ``kid``, the
padding and hash objects are module constants, and the whole token is checked for
shape with one regular expression.
"""

from __future__ import annotations

import binascii
import hmac
import json
import os
import re
import struct
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from licensing_client.errors import ConfigurationError, InvalidToken

#: Tokens longer than this are refused before they are parsed.
MAX_TOKEN_BYTES = 16 * 1024
#: Default leeway for ``exp``/``nbf``, in seconds: small and explicit.
DEFAULT_LEEWAY = 30.0
SIGNING_ALG = "RS256"
ENCRYPTION_ALG = "RSA-OAEP"
ENCRYPTION_ENC = "A256CBC-HS512"
LICENSE_TYP = "license+jwt"
ACTIVATION_TYP = "activation+jwt"
#: The smallest RSA modulus accepted for a published signing key.
MIN_RSA_BITS = 2048

_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
#: RFC 7518 ``RSA-OAEP``: OAEP with SHA-1 and MGF1-SHA-1 (not ``RSA-OAEP-256``).
_SHA1 = hashes.SHA1()  # noqa: S303 - mandated by the algorithm, not used as a digest
_OAEP_SHA1 = padding.OAEP(mgf=padding.MGF1(algorithm=_SHA1), algorithm=_SHA1, label=None)
_SEGMENT = r"[A-Za-z0-9_-]+"
_JWS_SHAPE = re.compile(rf"{_SEGMENT}\.{_SEGMENT}\.{_SEGMENT}")
_JWE_SHAPE = re.compile(rf"{_SEGMENT}\.{_SEGMENT}\.{_SEGMENT}\.{_SEGMENT}\.{_SEGMENT}")
_URL_TO_STD = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"===", b"==", b"=")

KeyResolver = Callable[[str], rsa.RSAPublicKey | None]


def b64url_decode(segment: str) -> bytes:
    """Strict, canonical base64url: no padding in the input, no characters outside the
    alphabet, unused low bits zero (every token has one spelling)."""
    try:
        data = binascii.a2b_base64(
            segment.encode("ascii").translate(_URL_TO_STD) + _PADDING[len(segment) % 4],
            strict_mode=True,
        )
    except (binascii.Error, ValueError) as error:  # UnicodeEncodeError is a ValueError
        raise InvalidToken("not base64url", code="MALFORMED") from error
    if b64url_encode(data) != segment:
        raise InvalidToken("not canonical base64url", code="MALFORMED")
    return data


def b64url_encode(data: bytes) -> str:
    return (
        binascii.b2a_base64(data, newline=False).decode("ascii").translate(_STD_TO_URL).rstrip("=")
    )


_STD_TO_URL = str.maketrans("+/", "-_")


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data, object_pairs_hook=_unique_members)
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, a member twice
        raise InvalidToken(f"{what} is not JSON", code="MALFORMED") from error
    if not isinstance(value, dict):
        raise InvalidToken(f"{what} is not a JSON object", code="MALFORMED")
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One spelling per token: a member named twice would read differently elsewhere."""
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError("a member appears more than once")
    return members


def _typ_of(value: object) -> str | None:
    """RFC 8725 section 3.11: compare media types case-insensitively, ``application/``
    optional."""
    if not isinstance(value, str):
        return None
    value = value.lower()
    return value[12:] if value.startswith("application/") else value


def header_of(token: str) -> dict[str, Any]:
    """The protected header of a compact token (JWS or JWE), unverified: for routing only."""
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken(f"token longer than {MAX_TOKEN_BYTES} bytes", code="MALFORMED")
    return _json_object(b64url_decode(token.partition(".")[0]), "header")


def is_jwe(token: str) -> bool:
    return token.count(".") == 4


def verify_jws(
    token: str,
    *,
    typ: str,
    keys: KeyResolver,
    issuer: str,
    audience: str,
    now: float,
    leeway: float = DEFAULT_LEEWAY,
    max_bytes: int = MAX_TOKEN_BYTES,
) -> dict[str, Any]:
    """The claims of a valid compact RS256 JWS; :class:`InvalidToken` otherwise."""
    claims = signed_claims(token, typ=typ, keys=keys, max_bytes=max_bytes)
    check_claims(claims, issuer=issuer, audience=audience, now=now, leeway=leeway)
    return claims


def signed_claims(
    token: str, *, typ: str, keys: KeyResolver, max_bytes: int = MAX_TOKEN_BYTES
) -> dict[str, Any]:
    """The claims of a compact RS256 JWS whose signature verifies with the issuer's key
    ``kid``: no claim is checked yet (the caller checks the ones its token type has)."""
    if not isinstance(token, str):
        raise InvalidToken("a token is a string", code="MALFORMED")
    if len(token) > max_bytes:
        raise InvalidToken(f"token longer than {max_bytes} bytes", code="MALFORMED")
    if _JWS_SHAPE.fullmatch(token) is None:
        raise InvalidToken("not a compact JWS (three base64url segments)", code="MALFORMED")
    signing_input, _, signature = token.rpartition(".")
    encoded_header, _, encoded_payload = signing_input.partition(".")
    header = _json_object(b64url_decode(encoded_header), "header")
    if header.get("alg") != SIGNING_ALG:
        raise InvalidToken(f"algorithm must be {SIGNING_ALG}", code="SIGNATURE_INVALID")
    if "crit" in header:
        raise InvalidToken("critical header extensions are not supported", code="MALFORMED")
    if _typ_of(header.get("typ")) != typ:
        raise InvalidToken(f"expected a token of type {typ}", code="WRONG_TOKEN_TYPE")
    kid = header.get("kid")
    key = keys(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidToken(
            "token signed by a key the issuer does not publish", code="UNKNOWN_KEY_ID"
        )
    try:
        key.verify(b64url_decode(signature), signing_input.encode("ascii"), _PKCS1V15, _SHA256)
    except InvalidSignature:
        raise InvalidToken("token signature is invalid", code="SIGNATURE_INVALID") from None
    return _json_object(b64url_decode(encoded_payload), "claims")


def sign_jws(
    claims: Mapping[str, Any],
    *,
    typ: str,
    key: rsa.RSAPrivateKey,
    header: Mapping[str, Any] | None = None,
) -> str:
    """A compact RS256 JWS of ``claims`` signed by ``key`` (a machine's own: offline
    activation requests and seat proofs)."""
    segments = [
        b64url_encode(json.dumps(part, separators=(",", ":"), sort_keys=True).encode())
        for part in ({"alg": SIGNING_ALG, "typ": typ, **(header or {})}, dict(claims))
    ]
    signing_input = ".".join(segments)
    signature = key.sign(signing_input.encode("ascii"), _PKCS1V15, _SHA256)
    return f"{signing_input}.{b64url_encode(signature)}"


def public_jwk(key: rsa.RSAPrivateKey) -> dict[str, str]:
    """The public half of a machine key as a JWK: ``{kty, n, e}``, nothing private."""
    numbers = key.public_key().public_numbers()
    return {
        "kty": "RSA",
        "n": b64url_encode(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64url_encode(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
    }


def check_claims(
    claims: Mapping[str, Any], *, issuer: str, audience: str, now: float, leeway: float
) -> None:
    """``exp`` (required), ``nbf`` and ``iat`` (numbers when present), ``iss``, ``aud``."""
    exp = claims.get("exp")
    if not _is_number(exp):
        raise InvalidToken("exp is missing or not a number", code="MALFORMED")
    if now > exp + leeway:  # type: ignore[operator]
        raise InvalidToken("token has expired", code="EXPIRED")
    nbf = claims.get("nbf")
    if nbf is not None:
        if not _is_number(nbf):
            raise InvalidToken("nbf is not a number", code="MALFORMED")
        if now + leeway < nbf:
            raise InvalidToken("token is not valid yet", code="NOT_YET_VALID")
    iat = claims.get("iat")
    if iat is not None and not _is_number(iat):
        raise InvalidToken("iat is not a number", code="MALFORMED")
    if claims.get("iss") != issuer:
        raise InvalidToken("token was issued by another issuer", code="WRONG_ISSUER")
    aud = claims.get("aud")
    if not (aud == audience or (isinstance(aud, list) and audience in aud)):
        raise InvalidToken("token is meant for another product", code="WRONG_AUDIENCE")
    if not isinstance(claims.get("sub"), str):
        raise InvalidToken("token has no subject", code="MALFORMED")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def decrypt_jwe(
    token: str, private_key: rsa.RSAPrivateKey, *, max_bytes: int = MAX_TOKEN_BYTES
) -> str:
    """The plaintext of a compact JWE (``RSA-OAEP`` + ``A256CBC-HS512``, ``cty: JWT``):
    the nested signed token, still to be verified.

    Every failure after the header check is the same ``DECRYPTION_FAILED`` (no padding
    or OAEP oracle): a CEK that does not decrypt is replaced by random bytes, so the
    authentication tag check fails in the same way and the same time.
    """
    if not isinstance(token, str):
        raise InvalidToken("a token is a string", code="MALFORMED")
    if len(token) > max_bytes:
        raise InvalidToken(f"token longer than {max_bytes} bytes", code="MALFORMED")
    if _JWE_SHAPE.fullmatch(token) is None:
        raise InvalidToken("not a compact JWE (five base64url segments)", code="MALFORMED")
    encoded_header, encoded_key, encoded_iv, encoded_ciphertext, encoded_tag = token.split(".")
    header = _json_object(b64url_decode(encoded_header), "header")
    if header.get("alg") != ENCRYPTION_ALG or header.get("enc") != ENCRYPTION_ENC:
        raise InvalidToken(
            f"encryption must be {ENCRYPTION_ALG} + {ENCRYPTION_ENC}", code="DECRYPTION_FAILED"
        )
    if "crit" in header or "zip" in header:
        raise InvalidToken("crit and zip are not supported", code="MALFORMED")
    if _typ_of(header.get("cty")) != "jwt":
        raise InvalidToken("an encrypted token must wrap a JWT (cty: JWT)", code="MALFORMED")
    encrypted_key = b64url_decode(encoded_key)
    iv = b64url_decode(encoded_iv)
    ciphertext = b64url_decode(encoded_ciphertext)
    tag = b64url_decode(encoded_tag)
    try:
        cek = private_key.decrypt(encrypted_key, _OAEP_SHA1)
    except ValueError:
        cek = b""
    if len(cek) != 64:
        cek = os.urandom(64)
    mac_key, enc_key = cek[:32], cek[32:]
    aad = encoded_header.encode("ascii")
    mac = hmac.new(mac_key, aad + iv + ciphertext + struct.pack(">Q", len(aad) * 8), "sha512")
    if len(iv) != 16 or not hmac.compare_digest(mac.digest()[:32], tag):
        raise InvalidToken(
            "token does not decrypt with this machine's key", code="DECRYPTION_FAILED"
        )
    if not ciphertext or len(ciphertext) % 16:
        raise InvalidToken(
            "token does not decrypt with this machine's key", code="DECRYPTION_FAILED"
        )
    decryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
        raise InvalidToken(
            "token does not decrypt with this machine's key", code="DECRYPTION_FAILED"
        )
    try:
        return padded[:-pad].decode("ascii")
    except UnicodeDecodeError:
        raise InvalidToken("the encrypted token is not a compact JWT", code="MALFORMED") from None


class KeySet:
    """The issuer's public signing keys, parsed once: ``kid`` → ``RSAPublicKey``.

    Only RSA keys of at least 2048 bits that may sign RS256 are kept (``use`` absent or
    ``sig``, ``alg`` absent or ``RS256``); keys without ``kid`` are ignored.
    """

    __slots__ = ("_keys", "jwks")

    def __init__(self, keys: Mapping[str, rsa.RSAPublicKey], jwks: Mapping[str, Any] | None = None):
        self._keys = dict(keys)
        #: The JWKS document these keys came from (public members only).
        self.jwks: Mapping[str, Any] = jwks or {"keys": []}

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> KeySet:
        members = jwks.get("keys") if isinstance(jwks, Mapping) else None
        if not isinstance(members, list):
            raise ConfigurationError(
                "a JWKS is a JSON object with a 'keys' list", code="INVALID_JWKS"
            )
        keys: dict[str, rsa.RSAPublicKey] = {}
        public: list[dict[str, Any]] = []
        for jwk in members:
            parsed = _rsa_signing_key(jwk)
            if parsed is not None:
                keys[jwk["kid"]] = parsed
                public.append(
                    {k: jwk[k] for k in ("kty", "kid", "use", "alg", "n", "e") if k in jwk}
                )
        return cls(keys, {"keys": public})

    def get(self, kid: str) -> rsa.RSAPublicKey | None:
        return self._keys.get(kid)

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeySet(kids={sorted(self._keys)!r})"


def _rsa_signing_key(jwk: object) -> rsa.RSAPublicKey | None:
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA":
        return None
    if not isinstance(jwk.get("kid"), str) or jwk.get("use", "sig") != "sig":
        return None
    if jwk.get("alg", SIGNING_ALG) != SIGNING_ALG:
        return None
    n, e = jwk.get("n"), jwk.get("e")
    if not isinstance(n, str) or not isinstance(e, str):
        return None
    try:
        numbers = rsa.RSAPublicNumbers(
            int.from_bytes(b64url_decode(e), "big"), int.from_bytes(b64url_decode(n), "big")
        )
        key = numbers.public_key()
    except (InvalidToken, ValueError):
        return None
    return key if key.key_size >= MIN_RSA_BITS else None
