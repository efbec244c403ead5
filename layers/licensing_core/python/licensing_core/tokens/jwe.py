"""Machine tokens encrypted to the machine: nested JWTs (RS256 JWS inside a JWE).

The JWE is pinned to ``RSA-OAEP`` key wrapping and ``A256CBC-HS512`` content
encryption, with ``cty: JWT`` saying the plaintext is a signed JWT. Public keys
that machines send are checked before use: RSA only, 2048 bits or more, and never
a private key.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwe, jwk

from licensing_core.domain.errors import ValidationFailed

KEY_ALGORITHM = "RSA-OAEP"
CONTENT_ALGORITHM = "A256CBC-HS512"
MIN_KEY_BITS = 2048
MAX_KEY_BITS = 8192
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class BadPublicKey(ValidationFailed):
    code = "INVALID_PUBLIC_KEY"
    title = "Invalid public key"


def machine_key(public_key: str | dict[str, Any]) -> dict[str, str]:
    """The public JWK ``{kty, n, e}`` of a key a machine sent as PEM or JWK; refuses
    anything but an RSA public key of 2048 to 8192 bits."""
    if isinstance(public_key, dict):
        if _PRIVATE_MEMBERS & set(public_key):
            raise BadPublicKey("the JWK carries private key members: send only the public key")
        if public_key.get("kty") != "RSA":
            raise BadPublicKey("only RSA keys are accepted")
        try:
            key = jwk.JWK(kty="RSA", n=public_key.get("n"), e=public_key.get("e")).get_op_key(
                "wrapKey"
            )
        except Exception as error:
            raise BadPublicKey("the JWK is not a valid RSA public key") from error
    else:
        if "PRIVATE KEY" in public_key:
            raise BadPublicKey("that is a private key: send only the public key")
        try:
            key = serialization.load_pem_public_key(public_key.encode())
        except (ValueError, TypeError) as error:
            raise BadPublicKey("publicKey is not a PEM public key") from error
    if not isinstance(key, rsa.RSAPublicKey):
        raise BadPublicKey("only RSA keys are accepted")
    if not MIN_KEY_BITS <= key.key_size <= MAX_KEY_BITS:
        raise BadPublicKey(f"RSA keys must have {MIN_KEY_BITS} to {MAX_KEY_BITS} bits")
    exported: dict[str, str] = jwk.JWK.from_pyca(key).export_public(as_dict=True)
    return {"kty": "RSA", "n": exported["n"], "e": exported["e"]}


def encrypt_to(signed_jwt: str, public_jwk: dict[str, str]) -> str:
    """A compact JWE of ``signed_jwt`` that only the holder of the private key can read."""
    header = {"alg": KEY_ALGORITHM, "enc": CONTENT_ALGORITHM, "cty": "JWT"}
    token = jwe.JWE(signed_jwt.encode("ascii"), json.dumps(header))
    token.add_recipient(jwk.JWK(**public_jwk))
    return str(token.serialize(compact=True))
