"""Verification of the tokens this service signs (license keys, machine tokens).

Everything is pinned: RS256 only, the expected ``typ`` (a machine token is never
accepted as a key, nor the reverse), a ``kid`` among our published keys (headers
such as ``jku``, ``x5u`` or ``jwk`` are never followed), ``crit`` refused, size
bounded before parsing, ``exp`` required, ``iss`` checked.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from licensing_core import strict_json
from licensing_core.jose import (
    TokenError,
    b64url_decode,
    check_registered_claims,
    compact_header,
    require_alg,
)
from licensing_core.settings import get_settings
from licensing_core.tokens.signer import ALGORITHM, Signer, get_signer


def check_signature(token: str, key: rsa.RSAPublicKey) -> None:
    """That ``key`` signed the compact JWS ``token`` (RS256); :class:`TokenError` if not."""
    signing_input, _, signature = token.rpartition(".")
    try:
        key.verify(
            b64url_decode(signature),
            signing_input.encode("ascii"),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, UnicodeEncodeError) as error:
        raise TokenError("SIGNATURE_INVALID", "token signature is invalid") from error


def payload(token: str) -> dict[str, Any]:
    """The claims of a compact JWS, a JSON object with each member once (unverified: call
    after :func:`check_signature`)."""
    try:
        claims = strict_json.loads(b64url_decode(token.split(".")[1]))
    except ValueError as error:  # not UTF-8, not JSON, a member twice
        raise TokenError("MALFORMED", f"token claims are not JSON: {error}") from error
    if not isinstance(claims, dict):
        raise TokenError("MALFORMED", "token claims are not a JSON object")
    return claims


def verify_token(
    token: str,
    *,
    typ: str,
    now: float,
    audience: str | None = None,
    signer: Signer | None = None,
) -> dict[str, Any]:
    """The claims of a valid token of ours; :class:`TokenError` with a code otherwise."""
    settings = get_settings()
    header = compact_header(token, max_bytes=settings.max_token_bytes)
    require_alg(header, (ALGORITHM,))
    if "crit" in header:
        raise TokenError("MALFORMED", "critical header extensions are not supported")
    if header.get("typ") != typ:
        raise TokenError("WRONG_TOKEN_TYPE", f"expected a token of type {typ}")
    kid = header.get("kid")
    key = (signer or get_signer()).verification_key(kid) if isinstance(kid, str) else None
    if key is None:
        raise TokenError("UNKNOWN_KEY_ID", "token signed by a key we do not publish")
    check_signature(token, key)
    claims = payload(token)
    check_registered_claims(
        claims,
        now=now,
        leeway=settings.leeway_seconds,
        issuer=settings.issuer,
        audiences=None if audience is None else (audience,),
    )
    if not isinstance(claims.get("sub"), str):
        raise TokenError("MALFORMED", "token has no subject")
    return claims
