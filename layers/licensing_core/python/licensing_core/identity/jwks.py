"""A cached JWKS client for an OIDC issuer.

Keys are cached for ``ttl`` seconds; a token naming an unknown ``kid`` causes at
most one refetch per ``cooldown`` (so a flood of forged kids cannot hammer the
issuer), and concurrent misses share one fetch.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from jwcrypto import jwk

from licensing_core.domain.errors import Unavailable

MAX_JWKS_BYTES = 512 * 1024
FETCH_TIMEOUT_SECONDS = 3.0

Fetch = Callable[[str], dict[str, Any]]


def fetch_json(url: str) -> dict[str, Any]:
    """GET a small JSON document over HTTP(S)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"refusing to fetch {url!r}")
    request = urllib.request.Request(url, headers={"accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
        body = response.read(MAX_JWKS_BYTES + 1)
    if len(body) > MAX_JWKS_BYTES:
        raise ValueError("JWKS document too large")
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError("JWKS document is not an object")
    return document


class JwksClient:
    def __init__(
        self,
        url: str,
        *,
        ttl: float,
        cooldown: float,
        fetch: Fetch | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._ttl = ttl
        self._cooldown = cooldown
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, jwk.JWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> jwk.JWK | None:
        """The RSA signing key with this ``kid``, or None when the issuer has none."""
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self._ttl
            unknown_may_refetch = (
                kid not in self._keys
                and self._fetched_at is not None
                and now - self._fetched_at >= self._cooldown
            )
            if stale or unknown_may_refetch:
                self._refresh(now)
            return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        try:
            document = (self._fetch or fetch_json)(self._url)
        except Exception as error:
            if self._keys:  # keep serving the keys we have
                self._fetched_at = now
                return
            raise Unavailable("the identity provider's keys could not be fetched") from error
        keys: dict[str, jwk.JWK] = {}
        for entry in document.get("keys", []):
            if not isinstance(entry, dict) or entry.get("kty") != "RSA" or "kid" not in entry:
                continue
            if entry.get("use", "sig") != "sig":
                continue
            public = {name: entry[name] for name in ("kty", "kid", "n", "e") if name in entry}
            try:
                keys[str(entry["kid"])] = jwk.JWK(**public)
            except Exception:  # noqa: S112 - a broken key is skipped, the others still work
                continue
        self._keys = keys
        self._fetched_at = now
