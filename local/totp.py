"""Time-based one-time codes (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits), the MFA of
the local accounts: moto's Cognito verifies no TOTP code, so the local sign-in does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP = 30
DIGITS = 6


def new_secret() -> str:
    """A base32 secret of 160 bits, as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def hotp(secret: str, counter: int) -> str:
    """The code of ``secret`` for ``counter`` (RFC 4226)."""
    key = base64.b32decode(secret, casefold=True)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def totp(secret: str, at: float | None = None) -> str:
    """The code of ``secret`` at ``at`` (default: now)."""
    return hotp(secret, int((time.time() if at is None else at) // STEP))


def otpauth_uri(secret: str, account: str, issuer: str = "Licensing local") -> str:
    """What an authenticator app takes to add the account."""
    label = quote(f"{issuer}:{account}")
    return f"otpauth://totp/{label}?{urlencode({'secret': secret, 'issuer': issuer})}"
