"""Discovery: the server's ``/.well-known/license-configuration`` and its JWKS.

Both are cached for their ``Cache-Control: max-age`` (a default when absent, capped),
persisted in the data directory so a restart verifies offline, and served stale when
the server cannot be reached. An unknown ``kid`` triggers one JWKS refetch at most once
per cooldown, single-flight across threads. Keys embedded in the app at build time are
always trusted and never need the network.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from licensing_client import http
from licensing_client.errors import ConfigurationError, LicensingError, NetworkError, RequestRefused
from licensing_client.jose import ENCRYPTION_ALG, ENCRYPTION_ENC, SIGNING_ALG, KeySet
from licensing_client.storage import Storage

log = logging.getLogger("licensing_client")

CONFIGURATION_PATH = "/.well-known/license-configuration"
DISCOVERY_FILE = "discovery.json"
DEFAULT_MAX_AGE = 300.0
MAX_MAX_AGE = 24 * 3600.0
DEFAULT_REFRESH_COOLDOWN = 60.0
ENDPOINTS = (
    "jwks_uri",
    "validate_endpoint",
    "activation_endpoint",
    "deactivation_endpoint",
    "heartbeat_endpoint",
    "usage_endpoint",
    "checkout_endpoint",
    "borrow_endpoint",
    "return_endpoint",
    "offline_activation_endpoint",
    "offline_deactivation_endpoint",
)
#: Endpoints the configuration document may not name: their path under the base URL.
DEFAULT_PATHS = {
    "usage_endpoint": "/usage",
    "checkout_endpoint": "/license-activations/checkout",
    "borrow_endpoint": "/license-activations/borrow",
    "return_endpoint": "/license-activations/return",
    "offline_activation_endpoint": "/license-activations/offline",
    "offline_deactivation_endpoint": "/license-activations/offline-deactivate",
}


class Discovery:
    """What the client knows about one licensing server (or only embedded keys)."""

    def __init__(
        self,
        base_url: str | None,
        *,
        transport: http.Transport,
        clock: Callable[[], float],
        storage: Storage | None = None,
        issuer: str | None = None,
        embedded_jwks: Mapping[str, Any] | None = None,
        refresh_cooldown: float = DEFAULT_REFRESH_COOLDOWN,
        timeout: float = 10.0,
        allow_http: bool = False,
    ):
        self.base_url = (
            http.check_url(base_url, allow_http=allow_http, what="base_url").rstrip("/")
            if base_url is not None
            else None
        )
        self._transport = transport
        self._clock = clock
        self._storage = storage
        self._pinned_issuer = issuer
        self._embedded = KeySet.from_jwks(embedded_jwks) if embedded_jwks is not None else None
        self._cooldown = refresh_cooldown
        self._timeout = timeout
        self._allow_http = allow_http
        self._config: dict[str, Any] | None = None
        self._config_expires = float("-inf")
        self._config_attempt = float("-inf")
        self._keys = KeySet({})
        self._keys_expires = float("-inf")
        self._keys_attempt = float("-inf")
        self._config_lock = threading.Lock()
        self._keys_lock = threading.Lock()
        #: Number of HTTP fetches made (configuration and JWKS), for tests and metrics.
        self.fetches = 0
        if self.base_url is None and issuer is None:
            raise ConfigurationError("an offline client needs the issuer", code="NO_ISSUER")
        if self.base_url is None and self._embedded is None:
            raise ConfigurationError("an offline client needs the JWKS", code="NO_JWKS")
        self._load_persisted()

    # -- persistence ---------------------------------------------------------------

    def _load_persisted(self) -> None:
        if self._storage is None or self.base_url is None:
            return
        saved = self._storage.read_json(DISCOVERY_FILE)
        if not saved or saved.get("base_url") != self.base_url:
            return
        try:
            config = self._validated(saved["configuration"])
            keys = KeySet.from_jwks(saved["jwks"])
        except (LicensingError, KeyError, TypeError):
            return
        self._config, self._config_expires = config, float(saved.get("configuration_expires", 0))
        self._keys, self._keys_expires = keys, float(saved.get("jwks_expires", 0))

    def _persist(self) -> None:
        if self._storage is None or self._config is None:
            return
        self._storage.write_json(
            DISCOVERY_FILE,
            {
                "base_url": self.base_url,
                "configuration": self._config,
                "configuration_expires": self._config_expires,
                "jwks": dict(self._keys.jwks),
                "jwks_expires": self._keys_expires,
            },
        )

    # -- configuration -------------------------------------------------------------

    @property
    def online(self) -> bool:
        return self.base_url is not None

    @property
    def issuer(self) -> str:
        if self._pinned_issuer is not None:
            return self._pinned_issuer
        issuer: str = self.configuration()["issuer"]
        return issuer

    def endpoint(self, name: str) -> str:
        if self.base_url is None:
            raise ConfigurationError(
                "this client is offline (no server URL): it can only verify", code="OFFLINE"
            )
        value = self.configuration().get(name)
        if value is None and name in DEFAULT_PATHS:
            return self.base_url + DEFAULT_PATHS[name]
        if not isinstance(value, str):
            raise ConfigurationError(
                f"the server's configuration has no {name}", code="INVALID_CONFIGURATION"
            )
        return value

    def configuration(self) -> dict[str, Any]:
        """The configuration document: cached, refetched after its max-age, served stale
        (with a warning) while the server cannot be reached."""
        config = self._config
        if config is not None and self._clock() < self._config_expires:
            return config
        if self.base_url is None:
            return {"issuer": self._pinned_issuer}
        with self._config_lock:
            now = self._clock()
            if self._config is not None and (
                now < self._config_expires or now - self._config_attempt < self._cooldown
            ):
                return self._config
            self._config_attempt = now
            try:
                document, expires = self._fetch_json(self.base_url + CONFIGURATION_PATH)
                self._config, self._config_expires = self._validated(document), expires
            except NetworkError:
                if self._config is None:
                    raise
                log.warning("licensing server unreachable; using the cached configuration")
                return self._config
            self._persist()
            return self._config

    def _validated(self, document: object) -> dict[str, Any]:
        if not isinstance(document, dict) or not isinstance(document.get("issuer"), str):
            raise ConfigurationError(
                "the license configuration has no issuer", code="INVALID_CONFIGURATION"
            )
        for name in ENDPOINTS:
            if name in document:
                http.check_url(document[name], allow_http=self._allow_http, what=name)
        if "jwks_uri" not in document:
            raise ConfigurationError(
                "the license configuration has no jwks_uri", code="INVALID_CONFIGURATION"
            )
        for name, needed in (
            ("token_signing_alg_values_supported", SIGNING_ALG),
            ("token_encryption_alg_values_supported", ENCRYPTION_ALG),
            ("token_encryption_enc_values_supported", ENCRYPTION_ENC),
        ):
            supported = document.get(name)
            if isinstance(supported, list) and needed not in supported:
                raise ConfigurationError(
                    f"the server does not offer {needed} ({name})", code="INVALID_CONFIGURATION"
                )
        if self._pinned_issuer is not None and document["issuer"] != self._pinned_issuer:
            raise ConfigurationError(
                "the server's issuer is not the one this app pins", code="WRONG_ISSUER"
            )
        return document

    def _fetch_json(self, url: str) -> tuple[Any, float]:
        now = self._clock()
        self.fetches += 1
        response = http.get(
            self._transport, url, accept="application/json", timeout=self._timeout, now=now
        )
        document = response.json()
        if document is None:
            raise NetworkError(f"GET {url}: the answer is not JSON", code="INVALID_RESPONSE")
        age = http.max_age(response.headers)
        age = DEFAULT_MAX_AGE if age is None else min(age, MAX_MAX_AGE)
        return document, now + age

    # -- keys ----------------------------------------------------------------------

    def key(self, kid: str) -> rsa.RSAPublicKey | None:
        """The public key ``kid`` (the :data:`~licensing_client.jose.KeyResolver` of
        verification): embedded keys first, then the cached JWKS, refreshed when stale or
        when ``kid`` is unknown (at most once per cooldown, one thread fetching)."""
        if self._embedded is not None:
            key = self._embedded.get(kid)
            if key is not None:
                return key
        key = self._keys.get(kid)
        if self.base_url is None or (key is not None and self._clock() < self._keys_expires):
            return key
        return self._refresh_for(kid)

    def _refresh_for(self, kid: str) -> rsa.RSAPublicKey | None:
        with self._keys_lock:
            now = self._clock()
            key = self._keys.get(kid)
            if key is not None and now < self._keys_expires:
                return key  # another thread refreshed while this one waited
            if now - self._keys_attempt < self._cooldown:
                return key
            self._keys_attempt = now
            try:
                self.refresh_keys()
            except (NetworkError, RequestRefused) as error:
                log.warning("cannot refresh the licensing server's keys: %s", error.code)
                return key  # stale keys keep verifying while the server is unreachable
            return self._keys.get(kid)

    def refresh_keys(self) -> KeySet:
        """Fetch the JWKS now (no cooldown): after this, removed keys no longer verify."""
        jwks_uri = self.endpoint("jwks_uri")
        document, expires = self._fetch_json(jwks_uri)
        keys = KeySet.from_jwks(document)
        self._keys, self._keys_expires = keys, expires
        self._persist()
        return keys

    def jwks(self) -> dict[str, Any]:
        """The public keys known now (embedded and fetched), as a JWKS: what an app can
        embed at build time for offline verification."""
        members = list(self._keys.jwks.get("keys", []))
        if self._embedded is not None:
            members += [k for k in self._embedded.jwks.get("keys", []) if k not in members]
        return json.loads(json.dumps({"keys": members}))
