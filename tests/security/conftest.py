"""The attack suite drives one real ``python -m local`` server over HTTP per session."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.client import LocalServer
from tests.security.examples import Target
from tests.security.support import Api, Dynamo, World, build_world, serve, user_token


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    yield from serve(tmp_path_factory, "security")


@pytest.fixture(scope="session")
def dynamo(server: LocalServer) -> Dynamo:
    return Dynamo(str(server.state()["aws_endpoint"]))


@pytest.fixture(scope="session")
def api(server: LocalServer, dynamo: Dynamo) -> Api:
    return Api(server, user_token(server), dynamo)


@pytest.fixture(scope="session")
def world(api: Api) -> World:
    return build_world(api)


@pytest.fixture(scope="session")
def signing_key(server: LocalServer, world: World) -> tuple[str, rsa.RSAPrivateKey]:
    """``(kid, private key)`` the server signs license keys and machine tokens with: the
    PEM file in its data directory (it exists once the world has issued a key)."""
    world.license()
    pem = (server.data_dir / "signing-key.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    jwks = server.request("GET", "/.well-known/jwks.json").body
    assert len(jwks["keys"]) == 1, jwks
    return str(jwks["keys"][0]["kid"]), key


@dataclass
class Trap:
    """An HTTP server on 127.0.0.1 that records every request it gets (``jku``/``x5u``
    targets: the service must never fetch them)."""

    url: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def trap() -> Iterator[Trap]:
    hits: list[str] = []

    class Record(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Trap(f"http://127.0.0.1:{httpd.server_port}", hits)
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def target(world: World, api: Api) -> Target:
    """A victim license with one live activation, for attacks that need real ids."""
    victim = world.license()
    activation = world.activate(victim, "victim-machine")
    listed = api.ok("GET", f"/license-keys/{victim.license_id}/activations")
    assert [a["activationId"] for a in listed["items"]] == [activation["activationId"]]
    return Target(world, victim, activation["clientId"], activation["activationId"])
