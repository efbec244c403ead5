"""Fixtures of the SDK's unit tests (the doubles live in ``sdk_fakes``)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk
from licensing_client import LicensingClient, machine
from sdk_fakes import BASE_URL, PRODUCT, FakeClock, FakeServer, Issuer, license_claims


@pytest.fixture(scope="session")
def issuer() -> Issuer:
    key = jwk.JWK.generate(kty="RSA", size=2048, kid="key-1")
    return Issuer(key=key, kid="key-1")


@pytest.fixture(scope="session")
def other_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048, kid="key-2")


@pytest.fixture(scope="session")
def session_machine_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests are pure: any attempt to connect anywhere fails loudly."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a unit test tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(autouse=True)
def fast_machine_keys(
    monkeypatch: pytest.MonkeyPatch, session_machine_key: rsa.RSAPrivateKey
) -> None:
    """One RSA key for every test (generating 2048-bit keys is slow); no env leaks in."""
    monkeypatch.setattr(machine, "generate_private_key", lambda: session_machine_key)
    monkeypatch.delenv(machine.MACHINE_ID_ENV, raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(issuer: Issuer, clock: FakeClock) -> FakeServer:
    return FakeServer(issuer=issuer, clock=clock)


@pytest.fixture
def make_client(
    server: FakeServer, clock: FakeClock, tmp_path: Path
) -> Iterator[Callable[..., LicensingClient]]:
    def make(**options: Any) -> LicensingClient:
        options.setdefault("data_dir", tmp_path / "app")
        options.setdefault("clock", clock)
        options.setdefault("transport", server)
        options.setdefault("machine_id", "machine-1")
        return LicensingClient(BASE_URL, product=PRODUCT, **options)

    yield make


@pytest.fixture
def key_token(issuer: Issuer) -> str:
    return issuer.sign(license_claims())
