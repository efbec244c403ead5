"""Verification of what machines sign: offline activation requests and seat proofs.

A request carries the machine's new RSA public key as ``jwk`` in its protected header
(as ACME's new-account requests do): the key is proven usable for machine files (one
RSA public key of 2048 to 8192 bits, a test encryption to it) and then verifies the
signature. A proof is verified with the key stored on the activation, and may carry no
key of its own. Everything else is pinned as for our own tokens: RS256 only, the
expected ``typ``, no ``crit``, no header member beyond those named, size bounded before
parsing, base64url canonical, JSON members unique.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from licensing_core.jose import TokenError, b64url_decode, compact_header, require_alg
from licensing_core.settings import get_settings
from licensing_core.tokens.jwe import machine_key
from licensing_core.tokens.signer import ALGORITHM
from licensing_core.tokens.verify import check_signature, payload

_REQUEST_HEADER = frozenset({"alg", "typ", "jwk"})
_PROOF_HEADER = frozenset({"alg", "typ"})


def verify_request(token: str, *, typ: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The claims of a request signed by the key in its ``jwk`` header, and that key
    (``{kty, n, e}``); :class:`TokenError`, or ``BadPublicKey`` for an unusable key."""
    header = _header(token, typ, _REQUEST_HEADER)
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise TokenError("MALFORMED", "the request carries no jwk header")
    key = machine_key(jwk)
    return _verified_claims(token, key), key


def verify_proof(token: str, *, typ: str, key: Mapping[str, str]) -> dict[str, Any]:
    """The claims of a proof signed by ``key`` (an activation's stored public JWK)."""
    _header(token, typ, _PROOF_HEADER)
    return _verified_claims(token, key)


def unverified_claims(token: str, *, typ: str) -> dict[str, Any]:
    """A proof's claims before its signature is checked: to find the activation whose
    key verifies it. Nothing read here is trusted until :func:`verify_proof` passed."""
    _header(token, typ, _PROOF_HEADER)
    return payload(token)


def _header(token: str, typ: str, allowed: frozenset[str]) -> dict[str, Any]:
    header = compact_header(token, max_bytes=get_settings().max_token_bytes)
    require_alg(header, (ALGORITHM,))
    if "crit" in header:
        raise TokenError("MALFORMED", "critical header extensions are not supported")
    if header.get("typ") != typ:
        raise TokenError("WRONG_TOKEN_TYPE", f"expected a token of type {typ}")
    extra = sorted(set(header) - allowed)
    if extra:
        raise TokenError("MALFORMED", f"header members not accepted here: {', '.join(extra)}")
    return header


def _verified_claims(token: str, jwk: Mapping[str, str]) -> dict[str, Any]:
    check_signature(
        token, rsa.RSAPublicNumbers(_integer(jwk["e"]), _integer(jwk["n"])).public_key()
    )
    return payload(token)


def _integer(value: str) -> int:
    return int.from_bytes(b64url_decode(value), "big")
