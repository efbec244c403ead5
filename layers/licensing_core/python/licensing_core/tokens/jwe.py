"""Machine tokens encrypted to the machine: nested JWTs (RS256 JWS inside a JWE).

The JWE is pinned to ``RSA-OAEP`` key wrapping and ``A256CBC-HS512`` content
encryption, with ``cty: JWT`` saying the plaintext is a signed JWT. A public key that a
machine sends is proven usable before anything is written: exactly one RSA public key
(one PEM block, or a JWK with public members only) in canonical encoding, numbers that
can be an RSA key of 2048 to 8192 bits, and a test encryption to it that succeeds.
"""

from __future__ import annotations

import base64
import json
import math
import re
from functools import cache
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from licensing_core.domain.errors import BadPublicKey
from licensing_core.jose import TokenError, b64url_decode, b64url_encode, rsa_members

KEY_ALGORITHM = "RSA-OAEP"
CONTENT_ALGORITHM = "A256CBC-HS512"
MIN_KEY_BITS = 2048
MAX_KEY_BITS = 8192
#: Public exponents: NIST SP 800-56B's floor (2^16 + 1), and below 2^32 as every common
#: implementation expects.
MIN_EXPONENT = 65537
MAX_EXPONENT = 2**32 - 1
#: A modulus with a prime factor below this is no RSA modulus (its factors are huge).
SMALL_PRIMES_BELOW = 2**12
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: What an RSA public JWK may say (RFC 7517, 7518; ``ext`` is WebCrypto's export flag).
_PUBLIC_MEMBERS = frozenset({"kty", "n", "e", "alg", "use", "key_ops", "kid", "ext"})
_PEM = re.compile(
    r"-----BEGIN (?P<label>(?:RSA )?PUBLIC KEY)-----\r?\n"
    r"(?P<body>[A-Za-z0-9+/=\r\n]+)"
    r"-----END (?P=label)-----"
)
_PEM_FORMATS = {
    "PUBLIC KEY": serialization.PublicFormat.SubjectPublicKeyInfo,
    "RSA PUBLIC KEY": serialization.PublicFormat.PKCS1,
}
#: Encrypted to every key before it is accepted: the proof that tokens can be.
_PROBE = "probe.probe.probe"


def machine_key(public_key: str | dict[str, Any]) -> dict[str, str]:
    """The public JWK ``{kty, n, e}`` of a key a machine sent as PEM or JWK, once a test
    encryption to it succeeded; refuses anything but one RSA public key of 2048 to 8192
    bits (:class:`BadPublicKey`)."""
    if isinstance(public_key, dict):
        n, e = _jwk_numbers(public_key)
    else:
        numbers = _pem_key(public_key).public_numbers()
        n, e = numbers.n, numbers.e
    _check_numbers(n, e)
    key = rsa_members(n, e)
    encrypt_to(_PROBE, key)
    return key


def encrypt_to(signed_jwt: str, public_jwk: dict[str, str]) -> str:
    """A compact JWE of ``signed_jwt`` that only the holder of the private key can read."""
    # jwcrypto is imported by the requests that encrypt, not by every cold start.
    from jwcrypto import jwe, jwk
    from jwcrypto.common import JWException

    header = {"alg": KEY_ALGORITHM, "enc": CONTENT_ALGORITHM, "cty": "JWT"}
    try:
        token = jwe.JWE(signed_jwt.encode("ascii"), json.dumps(header))
        token.add_recipient(jwk.JWK(**public_jwk))
        return str(token.serialize(compact=True))
    except (JWException, ValueError) as error:
        raise BadPublicKey("machine tokens cannot be encrypted to this public key") from error


def _pem_key(text: str) -> rsa.RSAPublicKey:
    """The key of exactly one ``PUBLIC KEY`` (SubjectPublicKeyInfo) or ``RSA PUBLIC KEY``
    (PKCS#1) block in canonical DER, with nothing around it but whitespace."""
    found = _PEM.fullmatch(text.strip())
    if found is None:
        if "PRIVATE KEY" in text:
            raise BadPublicKey("that is a private key: send only the public key")
        raise BadPublicKey(
            "publicKey must be one PEM block, PUBLIC KEY or RSA PUBLIC KEY, and nothing else"
        )
    label = found["label"]
    try:
        der = base64.b64decode("".join(found["body"].split()), validate=True)
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm) as error:  # binascii.Error is a ValueError
        raise BadPublicKey(f"the PEM block holds no {label.lower()} we can read") from error
    if not isinstance(key, rsa.RSAPublicKey):
        kind = type(key).__name__.removesuffix("PublicKey")
        raise BadPublicKey(f"only RSA keys are accepted, not {kind} keys")
    if key.public_bytes(serialization.Encoding.DER, _PEM_FORMATS[label]) != der:
        raise BadPublicKey(
            f"the {label} block must hold one RSA encryption key (rsaEncryption), in DER"
        )
    return key


def _jwk_numbers(key: dict[str, Any]) -> tuple[int, int]:
    """``(n, e)`` of a JWK that is an RSA public key for encryption, and says nothing else."""
    if _PRIVATE_MEMBERS & set(key):
        raise BadPublicKey("the JWK carries private key members: send only the public key")
    if key.get("kty") != "RSA":
        raise BadPublicKey("only RSA keys (kty RSA) are accepted")
    if set(key) - _PUBLIC_MEMBERS:
        raise BadPublicKey(f"an RSA public JWK has only the members {sorted(_PUBLIC_MEMBERS)}")
    if not _for_encryption(key):
        raise BadPublicKey("the JWK is restricted to other uses than RSA-OAEP encryption")
    return _jwk_integer(key, "n"), _jwk_integer(key, "e")


def _for_encryption(key: dict[str, Any]) -> bool:
    """Whether the JWK's ``use``, ``key_ops`` and ``alg``, where present, allow RSA-OAEP."""
    operations = key.get("key_ops", ["encrypt"])
    algorithm = key.get("alg", KEY_ALGORITHM)
    return (
        key.get("use", "enc") == "enc"
        and isinstance(operations, list)
        and bool({"encrypt", "wrapKey"} & {op for op in operations if isinstance(op, str)})
        and isinstance(algorithm, str)
        and algorithm.startswith(KEY_ALGORITHM)
    )


def _jwk_integer(key: dict[str, Any], member: str) -> int:
    """A JWK member holding an unsigned integer: base64url without padding, in the fewest
    octets (RFC 7518, section 6.3.1), and no longer than the largest modulus."""
    value = key.get(member)
    if not isinstance(value, str) or len(value) > math.ceil(MAX_KEY_BITS / 6):
        raise BadPublicKey(
            f"the JWK's {member} must be a base64url string of {MAX_KEY_BITS} bits at most"
        )
    try:
        octets = b64url_decode(value)
    except TokenError as error:
        raise BadPublicKey(f"the JWK's {member} is not base64url") from error
    if b64url_encode(octets) != value or octets[0] == 0:
        raise BadPublicKey(f"the JWK's {member} must be canonical base64url, without leading zeros")
    return int.from_bytes(octets, "big")


def _check_numbers(n: int, e: int) -> None:
    """``n`` and ``e`` could be an RSA public key: a modulus of the accepted size that is a
    product of large primes as far as cheap tests tell, and a sane public exponent."""
    if not MIN_KEY_BITS <= n.bit_length() <= MAX_KEY_BITS:
        raise BadPublicKey(f"RSA keys must have {MIN_KEY_BITS} to {MAX_KEY_BITS} bits")
    if not (MIN_EXPONENT <= e <= MAX_EXPONENT and e % 2):
        raise BadPublicKey(
            f"the public exponent must be odd, from {MIN_EXPONENT} to 2^32 - 1 (65537 is usual)"
        )
    if math.gcd(n, _small_primes()) != 1 or math.isqrt(n) ** 2 == n:
        raise BadPublicKey("the modulus is not a product of two large primes")


@cache
def _small_primes() -> int:
    """The product of the primes below :data:`SMALL_PRIMES_BELOW` (a sieve of Eratosthenes)."""
    composite = bytearray(SMALL_PRIMES_BELOW)
    product = 1
    for number in range(2, SMALL_PRIMES_BELOW):
        if not composite[number]:
            product *= number
            composite[number * number :: number] = b"\1" * len(
                range(number * number, SMALL_PRIMES_BELOW, number)
            )
    return product
