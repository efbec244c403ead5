"""Small, strict JOSE helpers shared by every verifier in the service (``tokens`` and
``identity``) and by the store's page cursors: a shared module below those layers.

Verification never trusts the token to choose: the algorithm is pinned by the
caller, the size is bounded before parsing, and time claims are checked against
an explicit clock with an explicit leeway.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping
from typing import Any

from licensing_core import strict_json


class TokenError(Exception):
    """A token failed verification; ``code`` says why (``EXPIRED``, ``MALFORMED``...)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def rsa_members(n: int, e: int) -> dict[str, str]:
    """The public JWK of an RSA key, ``{kty, n, e}`` (RFC 7518 6.3.1: unsigned big-endian
    integers in their shortest octets, base64url)."""

    def octets(value: int) -> str:
        return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    return {"kty": "RSA", "n": octets(n), "e": octets(e)}


def b64url_decode(segment: str) -> bytes:
    """Strict, canonical base64url: unpadded, and the one spelling of its bytes (unused
    low bits zero), so no token has a second spelling that verifies."""
    if not segment or any(c not in _B64URL for c in segment):
        raise TokenError("MALFORMED", "not base64url")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as error:
        raise TokenError("MALFORMED", "not base64url") from error
    if b64url_encode(data) != segment:
        raise TokenError("MALFORMED", "not canonical base64url (non-zero unused bits)")
    return data


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def compact_header(token: str, *, max_bytes: int, segments: int = 3) -> dict[str, Any]:
    """The protected header of a compact JWS (3 segments) or JWE (5), checked for shape."""
    if len(token) > max_bytes:
        raise TokenError("MALFORMED", f"token longer than {max_bytes} bytes")
    parts = token.split(".")
    if len(parts) != segments:
        raise TokenError("MALFORMED", f"expected {segments} dot-separated segments")
    for part in parts[1:]:  # one spelling per segment (an empty one is refused later)
        if part:
            b64url_decode(part)
    try:
        header = strict_json.loads(b64url_decode(parts[0]))
    except ValueError as error:  # not UTF-8, not JSON, a member twice
        raise TokenError("MALFORMED", f"header is not JSON: {error}") from error
    if not isinstance(header, dict):
        raise TokenError("MALFORMED", "header is not a JSON object")
    return header


def require_alg(header: Mapping[str, Any], allowed: Collection[str]) -> None:
    if header.get("alg") not in allowed:
        raise TokenError("SIGNATURE_INVALID", f"algorithm must be one of {sorted(allowed)}")


def check_registered_claims(
    claims: Mapping[str, Any],
    *,
    now: float,
    leeway: int,
    issuer: str,
    audiences: Collection[str] | None,
) -> None:
    """``exp`` (required), ``nbf``/``iat`` (when present), ``iss`` and ``aud``.

    ``audiences=None`` skips the audience check (the caller checks another claim).
    """
    exp = claims.get("exp")
    if not _is_number(exp):
        raise TokenError("MALFORMED", "exp is missing or not a number")
    if now > exp + leeway:  # type: ignore[operator]
        raise TokenError("EXPIRED", "token has expired")
    nbf = claims.get("nbf")
    if nbf is not None:
        if not _is_number(nbf):
            raise TokenError("MALFORMED", "nbf is not a number")
        if now + leeway < nbf:
            raise TokenError("NOT_YET_VALID", "token is not valid yet")
    iat = claims.get("iat")
    if iat is not None and not _is_number(iat):
        raise TokenError("MALFORMED", "iat is not a number")
    if claims.get("iss") != issuer:
        raise TokenError("WRONG_ISSUER", "token was issued by another issuer")
    if audiences is not None and not audience_matches(claims.get("aud"), audiences):
        raise TokenError("WRONG_AUDIENCE", "token is meant for another audience")


def audience_matches(aud: object, audiences: Collection[str]) -> bool:
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    return any(isinstance(value, str) and value in audiences for value in values)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
