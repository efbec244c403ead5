"""Machines that are not always online, end to end over HTTP against the real local server
(its stream consumers running): the SDK writes an activation request with the network
closed, the CLI submits it, the SDK imports the answer and runs with no network until
the file expires; a checkout on an online machine; a revocation reaches a file through
the status list as soon as the SDK comes online; a deactivation proof frees the seat."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwe as foreign_jwe
from joserfc import jwt as foreign_jwt
from joserfc.jwk import KeySet, RSAKey
from licensing_client import (
    ActivationRefused,
    InvalidToken,
    LicenseRevoked,
    LicensingClient,
    NotLicensed,
)

from local.aws import with_mfa
from tests.e2e.client import ROOT, LocalServer, hermetic_env

pytestmark = pytest.mark.e2e

DAY = 86_400


@contextmanager
def network_closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every socket this process opens fails while inside (the app is air-gapped)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("network is closed in this test")

    with monkeypatch.context() as patch:
        patch.setattr(socket, "socket", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield


class Clock:
    """A clock the test moves: the SDK reads nothing else."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def product(local_server: LocalServer) -> dict[str, str]:
    """A product of its own with a two-seat tier that allows machine files."""
    admin = local_server.admin_token
    code = f"Vault.{uuid.uuid4().hex[:8]}"
    product = local_server.request("POST", "/products", token=admin,
                                   json_body={"code": code, "name": "Vault"}).body  # fmt: skip
    local_server.request("POST", f"/products/{product['productId']}/features", token=admin,
                         json_body={"key": "vaults", "name": "Vaults"})  # fmt: skip
    tier = local_server.request(
        "POST", f"/products/{product['productId']}/tiers", token=admin,
        json_body={"code": "air", "name": "Air-gapped", "currency": "EUR",
                   "monthlyPrice": 100, "billingPeriods": ["monthly"], "maxUsers": 2,
                   "features": ["vaults"],
                   "offline": {"allowed": True, "defaultTtlSeconds": 30 * DAY,
                               "maxTtlSeconds": 365 * DAY, "maxBorrowSeconds": 7 * DAY}},
    )  # fmt: skip
    assert tier.status == 201, tier
    return {"code": code, "productId": product["productId"], "tierId": tier.body["tierId"]}


def issue(server: LocalServer, product: dict[str, str]) -> dict[str, Any]:
    customer = server.request("POST", "/customers", token=server.admin_token,
                              json_body={"email": f"{uuid.uuid4().hex}@example.com", "name": "V"})  # fmt: skip
    key = server.request(
        "POST", "/license-keys", token=server.admin_token,
        json_body={"productId": product["productId"], "tierId": product["tierId"],
                   "customerId": customer.body["customerId"], "perpetual": True},
    )  # fmt: skip
    assert key.status == 201, key
    return dict(key.body)


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "licensing_cli", *args],
        cwd=ROOT, env={**hermetic_env(), "COLUMNS": "200"}, input=stdin,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def shipped_jwks(server: LocalServer, product: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    """What the app's build embeds: the issuer's JWKS, fetched once."""
    builder = LicensingClient(server.base_url, product=product["code"], data_dir=tmp_path / "build")
    builder.discovery.refresh_keys()
    return builder.jwks()


def wait_for(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the stream consumer did not get there in time"
        time.sleep(0.2)


def test_an_air_gapped_machine_activates_by_request_file_and_runs_without_network(
    local_server: LocalServer,
    product: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = issue(local_server, product)
    jwks, machine_dir, clock = (
        shipped_jwks(local_server, product, tmp_path),
        tmp_path / "vault",
        Clock(),
    )

    def air_gapped() -> LicensingClient:
        return LicensingClient.offline(jwks=jwks, issuer=local_server.base_url,
                                       product=product["code"], data_dir=machine_dir, clock=clock)  # fmt: skip

    with network_closed(monkeypatch):  # on the machine: write the request
        request = air_gapped().machine_files.request(key["keyToken"], machine_id="vault-1")
    (tmp_path / "request.jws").write_text(request)

    carried = cli(
        "--url", local_server.base_url, "activations", "offline", str(tmp_path / "request.jws")
    )
    assert carried.returncode == 0, carried.stderr
    assert "valid until" in carried.stderr
    (tmp_path / "response.jws").write_text(carried.stdout)
    again = cli(
        "--url", local_server.base_url, "activations", "offline", str(tmp_path / "request.jws")
    )
    assert again.returncode == 0 and again.stdout == carried.stdout  # a lost answer, again
    replayed = local_server.request("POST", "/license-activations/offline",
                                    json_body={"request": request})  # fmt: skip
    assert replayed.status == 409 and replayed.body["code"] == "NONCE_REUSED"

    with network_closed(monkeypatch):  # back on the machine: import, then run offline
        app = air_gapped()
        held = app.machine_files.import_file((tmp_path / "response.jws").read_text())
        assert held.license_id == key["licenseId"] and held.has("vaults")
        assert held.claims["mode"] == "offline" and held.machine_id == "vault-1"
        restarted = air_gapped()  # a restart: the file and key come from the data directory
        assert restarted.machine_files.load() is not None and restarted.has("vaults")
        clock.now = held.expires_at + 120  # past the file's end (and the leeway)
        with pytest.raises(InvalidToken) as caught:
            air_gapped().machine_files.load()
        assert caught.value.code == "EXPIRED"

    # A foreign JOSE implementation opens it with only the machine key and the public JWKS.
    private = RSAKey.import_key((machine_dir / "machine-key.pem").read_bytes())
    opened = foreign_jwe.decrypt_compact(carried.stdout.strip(), private,
                                         algorithms=["RSA-OAEP", "A256CBC-HS512"])  # fmt: skip
    signed = foreign_jwt.decode(opened.plaintext.decode(), KeySet.import_key_set(jwks),
                                algorithms=["RS256"])  # fmt: skip
    assert signed.header["typ"] == "machine-file+jwt"
    assert signed.claims["sub"] == key["licenseId"] and signed.claims["aud"] == product["code"]
    assert {"iat", "exp", "status", "machineId"} <= set(signed.claims)


def test_a_revocation_reaches_a_checked_out_file_when_the_sdk_comes_online(
    local_server: LocalServer,
    product: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = issue(local_server, product)
    client = LicensingClient(local_server.base_url, product=product["code"], data_dir=tmp_path)
    client.activate(key["keyToken"], machine_id="laptop-1")
    held = client.machine_files.checkout(ttl_seconds=14 * DAY)
    assert held.claims["mode"] == "checkout" and held.expires_at - held.claims["iat"] == 14 * DAY
    assert client.machine_files.refresh_status() is not None  # online: the list says valid

    with network_closed(monkeypatch):  # the laptop goes offline: the file carries it
        offline = LicensingClient(local_server.base_url, product=product["code"], data_dir=tmp_path)
        assert offline.machine_files.load() is not None and offline.has("vaults")

    revoked = local_server.request("POST", f"/license-keys/{key['licenseId']}/revoke",
                                   token=with_mfa(local_server.admin_token),
                                   json_body={"reason": "e2e: stolen laptop"})  # fmt: skip
    assert revoked.status == 200, revoked
    uri, index = (
        held.claims["status"]["status_list"]["uri"],
        held.claims["status"]["status_list"]["idx"],
    )

    def bit_set() -> bool:
        listed = client.machine_files._fetch_list(uri, None)
        return listed is not None and listed.revoked(index)

    wait_for(bit_set)  # the status bits consumer ran on the audit stream
    path = uri.removeprefix(local_server.base_url)
    listed = local_server.request("GET", path)
    assert listed.status == 200 and listed.headers["content-type"] == "application/statuslist+jwt"
    assert listed.headers["cache-control"] == "public, max-age=60"
    etag = listed.headers["etag"]
    cached = local_server.request("GET", path, headers={"If-None-Match": etag})
    assert cached.status == 304 and cached.headers["etag"] == etag
    online = LicensingClient(local_server.base_url, product=product["code"], data_dir=tmp_path)
    with pytest.raises(LicenseRevoked) as caught:
        online.machine_files.load()  # comes online: fetches the list, refuses the file
    assert caught.value.code == "FILE_REVOKED" and not online.has("vaults")
    later = LicensingClient(local_server.base_url, product=product["code"], data_dir=tmp_path)
    with network_closed(monkeypatch), pytest.raises(LicenseRevoked):
        later.machine_files.load()  # offline again: the kept list still refuses it


def test_a_deactivation_proof_frees_the_seat_once(
    local_server: LocalServer, product: dict[str, str], tmp_path: Path
) -> None:
    key = issue(local_server, product)
    jwks = shipped_jwks(local_server, product, tmp_path)
    machines = []
    for number in (1, 2, 3):
        app = LicensingClient.offline(jwks=jwks, issuer=local_server.base_url,
                                      product=product["code"], data_dir=tmp_path / f"m{number}")  # fmt: skip
        request = app.machine_files.request(key["keyToken"], machine_id=f"vault-{number}")
        answer = local_server.request(
            "POST", "/license-activations/offline", json_body={"request": request}
        )
        machines.append((app, answer))
    assert [answer.status for _, answer in machines] == [201, 201, 409]
    assert machines[2][1].body["code"] == "SEAT_LIMIT_REACHED"
    app = machines[0][0]
    app.machine_files.import_file(machines[0][1].body["machineFile"], machine_id="vault-1")
    proof = app.machine_files.deactivation_proof()
    assert app.machine_files.load() is None  # the file is gone from the machine
    with pytest.raises(NotLicensed):
        app.require("vaults")
    freed = cli(
        "--url", local_server.base_url, "activations", "offline-deactivate", "-", stdin=proof
    )
    assert freed.returncode == 0 and "seat is free" in freed.stdout, freed.stderr
    replay = cli(
        "--url",
        local_server.base_url,
        "--json",
        "activations",
        "offline-deactivate",
        "-",
        stdin=proof,
    )
    assert replay.returncode == 0 and json.loads(replay.stdout) == {"deactivated": False}
    third = machines[2][0].machine_files.request(key["keyToken"], machine_id="vault-3")
    assert local_server.request("POST", "/license-activations/offline",
                                json_body={"request": third}).status == 201  # fmt: skip


def test_a_borrowed_seat_comes_back_on_return(
    local_server: LocalServer, product: dict[str, str], tmp_path: Path
) -> None:
    key = issue(local_server, product)
    laptop = LicensingClient(
        local_server.base_url, product=product["code"], data_dir=tmp_path / "a"
    )
    laptop.activate(key["keyToken"], machine_id="laptop")
    desk = LicensingClient(local_server.base_url, product=product["code"], data_dir=tmp_path / "b")
    desk.activate(key["keyToken"], machine_id="desk")
    borrowed = laptop.machine_files.borrow(3 * DAY)
    assert borrowed.claims["mode"] == "borrow"
    third = LicensingClient(local_server.base_url, product=product["code"], data_dir=tmp_path / "c")
    with pytest.raises(ActivationRefused) as caught:
        third.activate(key["keyToken"], machine_id="third")
    assert caught.value.code == "SEAT_LIMIT_REACHED"
    laptop.machine_files.return_borrowed()
    assert laptop.activation is None and not laptop.has("vaults")
    assert third.activate(key["keyToken"], machine_id="third").has("vaults")


def test_a_machine_file_is_no_license_key_for_the_sdk_nor_the_reverse(
    local_server: LocalServer, product: dict[str, str], tmp_path: Path
) -> None:
    key = issue(local_server, product)
    client = LicensingClient(local_server.base_url, product=product["code"], data_dir=tmp_path,
                             encrypt=False)  # fmt: skip
    client.activate(key["keyToken"], machine_id="plain")
    client.machine_files.checkout()
    machine_file = json.loads((tmp_path / f"machine-file.{product['code']}.json").read_text())[
        "machineFile"
    ]
    with pytest.raises(InvalidToken) as caught:
        client.verify_license_key(machine_file)
    assert caught.value.code == "WRONG_TOKEN_TYPE"
    with pytest.raises(InvalidToken) as caught:
        client.machine_files.import_file(key["keyToken"])
    assert caught.value.code == "WRONG_TOKEN_TYPE"
    refused = local_server.request("POST", "/license-activations/activate",
                                   json_body={"keyToken": machine_file, "machineId": "x"})  # fmt: skip
    assert refused.status == 403 and refused.body["code"] == "WRONG_TOKEN_TYPE"
