"""Discovery and keys: cached per Cache-Control, persisted, refreshed on an unknown kid at
most once per cooldown and by one thread, served stale while the server is away."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from jwcrypto import jwk
from licensing_client import ConfigurationError, InvalidToken, LicensingClient, NetworkError
from licensing_client.http import Response
from sdk_fakes import BASE_URL, ISSUER, PRODUCT, FakeClock, FakeServer, Issuer, license_claims

CONFIG = "/.well-known/license-configuration"
JWKS = "/.well-known/jwks.json"


def test_the_first_verification_reads_configuration_and_keys_once(
    make_client: Callable[..., LicensingClient], server: FakeServer, key_token: str
) -> None:
    client = make_client()
    assert server.requests == []  # construction is free of network
    for _ in range(5):
        assert client.verify_license_key(key_token).has("sso")
    assert (server.count(CONFIG), server.count(JWKS)) == (1, 1)
    assert client.issuer == ISSUER


def test_max_age_is_respected(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    clock: FakeClock,
    key_token: str,
) -> None:
    server.jwks_headers = {"cache-control": "public, max-age=120"}
    client = make_client(jwks_refresh_cooldown=10)
    client.verify_license_key(key_token)
    clock.advance(119)
    client.verify_license_key(key_token)
    assert server.count(JWKS) == 1
    clock.advance(2)
    client.verify_license_key(key_token)
    assert server.count(JWKS) == 2


def test_no_store_means_refetch_but_within_the_cooldown_only_once(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    clock: FakeClock,
    key_token: str,
) -> None:
    server.jwks_headers = {"cache-control": "no-store"}
    client = make_client(jwks_refresh_cooldown=60)
    for _ in range(3):
        client.verify_license_key(key_token)
    assert server.count(JWKS) == 1
    clock.advance(61)
    client.verify_license_key(key_token)
    assert server.count(JWKS) == 2


def test_an_unknown_kid_refetches_once_per_cooldown(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    issuer: Issuer,
    other_key: jwk.JWK,
    clock: FakeClock,
    key_token: str,
) -> None:
    client = make_client(jwks_refresh_cooldown=60)
    client.verify_license_key(key_token)
    rotated = issuer.sign(license_claims(), key=other_key)
    clock.advance(61)  # past the cooldown of the first fetch
    for _ in range(3):
        with pytest.raises(InvalidToken) as caught:
            client.verify_license_key(rotated)
        assert caught.value.code == "UNKNOWN_KEY_ID"
    assert server.count(JWKS) == 2  # one refetch, not three
    # the server publishes the new key: after the cooldown it is picked up
    server.jwks_override = Issuer(key=issuer.key, kid="key-1", others=[other_key]).jwks
    clock.advance(61)
    assert client.verify_license_key(rotated).has("sso")
    assert server.count(JWKS) == 3


def test_a_removed_key_stops_verifying_after_the_cache_expires(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    other_key: jwk.JWK,
    clock: FakeClock,
    key_token: str,
) -> None:
    client = make_client()
    client.verify_license_key(key_token)
    server.jwks_override = {"keys": [json.loads(other_key.export_public())]}
    clock.advance(301)
    with pytest.raises(InvalidToken) as caught:
        client.verify_license_key(key_token)
    assert caught.value.code == "UNKNOWN_KEY_ID"


class SlowJwks:
    """A transport whose JWKS answer takes a while: concurrent refreshes would overlap."""

    def __init__(self, inner: FakeServer):
        self.inner = inner
        self.jwks_fetches = 0
        self.lock = threading.Lock()

    def __call__(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float,
    ) -> Response:
        if url.endswith(JWKS):
            with self.lock:
                self.jwks_fetches += 1
            time.sleep(0.05)
        return self.inner(method, url, body=body, headers=headers, timeout=timeout)


def test_refreshes_are_single_flight_across_threads(
    server: FakeServer, issuer: Issuer, other_key: jwk.JWK, tmp_path: Path, key_token: str
) -> None:
    transport = SlowJwks(server)
    client = LicensingClient(
        BASE_URL, product=PRODUCT, data_dir=tmp_path, transport=transport, clock=server.clock
    )
    unknown = issuer.sign(license_claims(), key=other_key)
    barrier = threading.Barrier(16)
    outcomes: list[str] = []

    def verify(token: str) -> None:
        barrier.wait()
        try:
            client.verify_license_key(token)
            outcomes.append("ok")
        except InvalidToken as error:
            outcomes.append(error.code)

    threads = [
        threading.Thread(target=verify, args=(key_token if i % 2 else unknown,)) for i in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert transport.jwks_fetches == 1
    assert sorted(set(outcomes)) == ["UNKNOWN_KEY_ID", "ok"]
    assert outcomes.count("ok") == 8


def test_a_restart_verifies_offline_from_the_persisted_documents(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    clock: FakeClock,
    key_token: str,
    tmp_path: Path,
) -> None:
    make_client().verify_license_key(key_token)
    assert oct((tmp_path / "app" / "discovery.json").stat().st_mode & 0o777) == "0o600"
    server.reachable = False
    clock.advance(3600)  # the cached documents are stale: used anyway, with a warning
    restarted = make_client()
    assert restarted.verify_license_key(key_token).has("sso")
    assert restarted.verify_license_key(key_token).has("sso")
    # one failed attempt per document, then the cooldown holds further attempts
    assert (server.count(CONFIG), server.count(JWKS)) == (2, 2)


def test_without_any_cached_document_the_network_error_surfaces(
    make_client: Callable[..., LicensingClient], server: FakeServer, key_token: str
) -> None:
    server.reachable = False
    with pytest.raises(NetworkError):
        make_client().verify_license_key(key_token)


def test_an_offline_client_never_touches_the_network(
    issuer: Issuer, key_token: str, clock: FakeClock
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Response:
        raise AssertionError("no request expected")

    client = LicensingClient.offline(
        jwks=issuer.jwks, issuer=ISSUER, product=PRODUCT, transport=no_network, clock=clock
    )
    held = client.verify_license_key(key_token)
    assert held.has("sso")
    assert client.storage is None
    assert client.jwks()["keys"][0]["kid"] == "key-1"
    with pytest.raises(ConfigurationError) as caught:
        client.activate(key_token)
    assert caught.value.code == "OFFLINE"


def test_embedded_keys_are_trusted_even_with_a_server(
    make_client: Callable[..., LicensingClient], server: FakeServer, issuer: Issuer, key_token: str
) -> None:
    client = make_client(jwks=issuer.jwks, issuer=ISSUER)
    assert client.verify_license_key(key_token).has("sso")
    assert server.requests == []


def test_an_offline_client_needs_keys_and_issuer(issuer: Issuer) -> None:
    with pytest.raises(ConfigurationError):
        LicensingClient(None, product=PRODUCT, jwks=issuer.jwks)
    with pytest.raises(ConfigurationError):
        LicensingClient(None, product=PRODUCT, issuer=ISSUER)


def test_a_pinned_issuer_must_match_the_server(
    make_client: Callable[..., LicensingClient], key_token: str
) -> None:
    client = make_client(issuer="https://other.test")
    with pytest.raises(ConfigurationError) as caught:
        client.verify_license_key(key_token)
    assert caught.value.code == "WRONG_ISSUER"


@pytest.mark.parametrize(
    "change",
    [
        {"token_signing_alg_values_supported": ["ES256"]},
        {"token_encryption_enc_values_supported": ["A128GCM"]},
        {"jwks_uri": "ftp://licensing.test/jwks"},
        {"jwks_uri": "http://licensing.test/jwks"},
        {"issuer": None},
        {"jwks_uri": None},
    ],
)
def test_a_bad_configuration_is_refused(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    key_token: str,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, Any],
) -> None:
    document = {k: v for k, v in {**FakeServer.configuration(), **change}.items() if v is not None}
    monkeypatch.setattr(FakeServer, "configuration", staticmethod(lambda: document))
    with pytest.raises(ConfigurationError):
        make_client().verify_license_key(key_token)


@pytest.mark.parametrize(
    "url", ["http://licensing.example.com", "ftp://x", "file:///etc/passwd", "licensing.test"]
)
def test_the_base_url_must_be_https_except_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError):
        LicensingClient(url, product=PRODUCT, persist=False)


def test_http_is_allowed_to_loopback_or_on_request() -> None:
    LicensingClient("http://127.0.0.1:8000", product=PRODUCT, persist=False)
    LicensingClient("http://localhost:8000/", product=PRODUCT, persist=False)
    LicensingClient("http://licensing.lan", product=PRODUCT, persist=False, allow_http=True)
