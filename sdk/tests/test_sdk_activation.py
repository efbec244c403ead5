"""Activation: key pair and machine id, the encrypted machine token, what is stored (0600),
resuming offline after a restart, refusals, deactivation."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from licensing_client import (
    ActivationRefused,
    ConfigurationError,
    InvalidToken,
    LicensingClient,
    NotLicensed,
    machine,
)
from licensing_client.storage import Storage, default_data_dir
from sdk_fakes import T0, FakeClock, FakeServer, Issuer, license_claims

ACTIVATE = "/license-activations/activate"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_activation_sends_key_machine_and_public_key_and_holds_the_license(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    key_token: str,
    session_machine_key: rsa.RSAPrivateKey,
) -> None:
    client = make_client()
    held = client.activate(key_token)
    assert held.has("sso") and client.has("sso")
    assert held.is_machine_token
    assert client.license is held
    assert client.limit("maxUsers") == 50
    _, url, body = next(r for r in server.requests if r[1].endswith(ACTIVATE))
    assert url == "https://licensing.test/license-activations/activate"
    assert body["keyToken"] == key_token
    assert body["machineId"] == "machine-1"
    assert body["product"] == "Rdn.Identity"
    sent = serialization.load_pem_public_key(body["publicKey"].encode())
    assert body["publicKey"].startswith("-----BEGIN PUBLIC KEY-----")  # SubjectPublicKeyInfo
    assert sent.public_numbers() == session_machine_key.public_key().public_numbers()
    record = client.activation
    assert record is not None
    assert record.token_type == "jwe"
    assert record.next_heartbeat_at == T0 + 3600
    assert record.expires_at == T0 + 172_800


def test_files_are_private(
    make_client: Callable[..., LicensingClient], key_token: str, tmp_path: Path
) -> None:
    make_client().activate(key_token)
    directory = tmp_path / "app"
    assert mode(directory) == 0o700
    names = sorted(p.name for p in directory.iterdir())
    assert names == [
        "activation.Rdn.Identity.json",
        "clock.json",
        "discovery.json",
        "machine-key.pem",
    ]
    for path in directory.iterdir():
        assert mode(path) == 0o600, path


def test_repr_of_client_and_activation_hold_no_secret(
    make_client: Callable[..., LicensingClient], key_token: str
) -> None:
    client = make_client()
    client.activate(key_token)
    record = client.activation
    assert record is not None
    for text in (repr(client), repr(record), repr(client.license)):
        assert record.client_id not in text
        assert record.token[:40] not in text
        assert key_token[:40] not in text
        assert "machine-1" not in text


def test_a_restart_resumes_offline(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    clock: FakeClock,
    key_token: str,
) -> None:
    make_client().activate(key_token)
    server.reachable = False
    clock.advance(3600)
    restarted = make_client()
    assert restarted.license is None
    held = restarted.resume()
    assert held is not None and restarted.has("sso")
    assert held.license_id == "lic_1"


def test_resume_without_activation_is_none(make_client: Callable[..., LicensingClient]) -> None:
    assert make_client().resume() is None


def test_resume_renews_an_expired_stored_token(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    clock: FakeClock,
    key_token: str,
) -> None:
    make_client().activate(key_token)
    clock.advance(172_800 + 60)
    restarted = make_client()
    held = restarted.resume()
    assert held is not None and held.has("sso")
    assert server.count("/license-keys/heartbeat") == 1


def test_resume_refuses_a_tampered_stored_token(
    make_client: Callable[..., LicensingClient], key_token: str, tmp_path: Path
) -> None:
    make_client().activate(key_token)
    path = tmp_path / "app" / "activation.Rdn.Identity.json"
    record = json.loads(path.read_text())
    header, key, iv, ciphertext, tag = record["token"].split(".")
    record["token"] = ".".join([header, key, iv, ciphertext[:-4] + "AAAA", tag])
    path.write_text(json.dumps(record))
    with pytest.raises(InvalidToken) as caught:
        make_client().resume()
    assert caught.value.code == "DECRYPTION_FAILED"


def test_an_unencrypted_answer_is_a_downgrade(
    make_client: Callable[..., LicensingClient], server: FakeServer, key_token: str
) -> None:
    server.encrypt = False
    client = make_client()
    with pytest.raises(InvalidToken) as caught:
        client.activate(key_token)
    assert caught.value.code == "WRONG_TOKEN_TYPE"
    assert client.license is None


def test_without_encryption_the_token_is_a_jws(
    make_client: Callable[..., LicensingClient], server: FakeServer, key_token: str, tmp_path: Path
) -> None:
    client = make_client(encrypt=False)
    client.activate(key_token)
    assert client.activation is not None and client.activation.token_type == "jws"
    assert "publicKey" not in server.requests[-1][2]
    assert not (tmp_path / "app" / "machine-key.pem").exists()


def test_a_key_for_another_product_fails_before_any_request(
    make_client: Callable[..., LicensingClient], server: FakeServer, issuer: Issuer
) -> None:
    client = make_client()
    with pytest.raises(InvalidToken) as caught:
        client.activate(issuer.sign(license_claims(aud="Other.Product")))
    assert caught.value.code == "WRONG_AUDIENCE"
    assert server.count(ACTIVATE) == 0


def test_a_machine_token_is_not_a_license_key(
    make_client: Callable[..., LicensingClient], issuer: Issuer
) -> None:
    token = issuer.sign(license_claims(cid="c", machineId="m"), typ="activation+jwt")
    with pytest.raises(InvalidToken) as caught:
        make_client().activate(token)
    assert caught.value.code == "WRONG_TOKEN_TYPE"


def test_a_refusal_carries_the_server_code(
    make_client: Callable[..., LicensingClient], server: FakeServer, key_token: str
) -> None:
    server.activation_refusal = "SEAT_LIMIT_REACHED"
    with pytest.raises(ActivationRefused) as caught:
        make_client().activate(key_token)
    assert caught.value.code == "SEAT_LIMIT_REACHED"
    assert caught.value.status == 403
    assert caught.value.problem["code"] == "SEAT_LIMIT_REACHED"
    assert key_token not in repr(caught.value)


def test_a_token_for_another_activation_is_refused(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
    key_token: str,
) -> None:
    original = server._token

    def wrong_client(record: dict[str, object]) -> dict[str, object]:
        return original({**record, "clientId": "cli_someone_else"})

    monkeypatch.setattr(server, "_token", wrong_client)
    with pytest.raises(InvalidToken) as caught:
        make_client().activate(key_token)
    assert caught.value.code == "WRONG_ACTIVATION"


def test_activating_again_reuses_the_key_pair(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    key_token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_client().activate(key_token)
    monkeypatch.setattr(machine, "generate_private_key", lambda: pytest.fail("a new key"))
    client = make_client()
    client.activate(key_token)
    assert len(server.activations) == 1  # same machine: same activation


def test_deactivate_frees_the_seat_and_forgets(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    key_token: str,
    tmp_path: Path,
) -> None:
    client = make_client()
    held = client.activate(key_token)
    client.deactivate()
    assert server.activations == {}
    assert not held.has("sso") and not client.has("sso")
    assert client.license is None and client.activation is None
    assert not (tmp_path / "app" / "activation.Rdn.Identity.json").exists()
    with pytest.raises(NotLicensed) as caught:
        held.require("sso")
    assert caught.value.code == "DEACTIVATED"
    client.deactivate()  # nothing left: a no-op
    with pytest.raises(ConfigurationError):
        client.heartbeat()


def test_require_without_a_license(make_client: Callable[..., LicensingClient]) -> None:
    client = make_client()
    assert not client.has("sso")
    assert client.limit("maxUsers") is None
    with pytest.raises(NotLicensed) as caught:
        client.require("sso")
    assert caught.value.code == "NOT_ACTIVATED"


# -- machine id and data directory ----------------------------------------------------


def test_machine_id_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = Storage(tmp_path)
    assert machine.machine_id("App", explicit="given") == "given"
    monkeypatch.setenv(machine.MACHINE_ID_ENV, "from-env")
    assert machine.machine_id("App") == "from-env"
    assert machine.machine_id("App", explicit="given") == "given"
    monkeypatch.delenv(machine.MACHINE_ID_ENV)
    os_based = machine.machine_id("App", os_id=lambda: "0123abcd")
    assert os_based == machine.app_specific("0123abcd", "App")
    assert len(os_based) == 64 and "0123abcd" not in os_based
    assert machine.machine_id("Other", os_id=lambda: "0123abcd") != os_based
    generated = machine.machine_id("App", storage=storage, os_id=lambda: None)
    assert generated == machine.machine_id("App", storage=storage, os_id=lambda: None)
    assert mode(tmp_path / "machine-id") == 0o600
    with pytest.raises(ConfigurationError):
        machine.machine_id("App", os_id=lambda: None)
    for bad in ("x" * 257, "has space", "naïve"):
        with pytest.raises(ConfigurationError):
            machine.machine_id("App", explicit=bad)


def test_linux_machine_id_files_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "etc-machine-id", tmp_path / "dbus-machine-id"
    second.write_text("dbus-id\n")
    monkeypatch.setattr(machine, "LINUX_MACHINE_ID_FILES", (first, second))
    assert machine.os_machine_id() == "dbus-id"
    first.write_text("etc-id\n")
    assert machine.os_machine_id() == "etc-id"


def test_the_client_machine_id_is_stable_and_app_specific(tmp_path: Path) -> None:
    a = LicensingClient("https://l.test", product="P", app_name="A", data_dir=tmp_path)
    b = LicensingClient("https://l.test", product="P", app_name="B", data_dir=tmp_path)
    assert a.machine_id() == a.machine_id() != b.machine_id()


def test_default_data_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_data_dir("App") == tmp_path / "App"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_data_dir("App") == tmp_path / ".local" / "share" / "App"
    monkeypatch.setattr("sys.platform", "darwin")
    assert default_data_dir("App") == tmp_path / "Library" / "Application Support" / "App"


def test_a_damaged_key_file_is_replaced(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    storage.write_bytes(machine.KEY_FILE, b"garbage")
    key = machine.load_or_create_key(storage)
    assert key.key_size == 2048
    assert machine.load_or_create_key(storage).private_numbers() == key.private_numbers()


def test_storage_refuses_path_tricks(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    for name in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(ValueError, match="plain file name"):
            storage.path(name)
    assert storage.read_json("absent.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert storage.read_json("bad.json") is None


def _activation_body(server: FakeServer) -> dict[str, Any]:
    _, _, body = next(r for r in server.requests if r[1].endswith(ACTIVATE))
    found: dict[str, Any] = body
    return found


def test_activation_says_the_hostname_platform_and_app_version(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    key_token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(machine.socket, "gethostname", lambda: "build-07")
    monkeypatch.setattr(machine.platform, "platform", lambda: "Linux-6.8-x86_64")
    make_client(app_version="4.2.1").activate(key_token)
    body = _activation_body(server)
    assert (body["hostname"], body["platform"], body["appVersion"]) == (
        "build-07",
        "Linux-6.8-x86_64",
        "4.2.1",
    )


def test_the_version_given_to_activate_wins_and_details_can_be_kept(
    make_client: Callable[..., LicensingClient], server: FakeServer, key_token: str
) -> None:
    make_client(app_version="1.0", describe_machine=False).activate(key_token, app_version="2.0")
    body = _activation_body(server)
    assert body["appVersion"] == "2.0"
    assert "hostname" not in body and "platform" not in body


def test_details_are_sent_as_the_server_accepts_them(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    key_token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Control and format characters dropped, lengths cut to the server's limits, empty
    values left out: what a machine says of itself never refuses its activation."""
    monkeypatch.setattr(machine.socket, "gethostname", lambda: "host\x07\u202e" + "h" * 300)
    monkeypatch.setattr(machine.platform, "platform", lambda: "\x00\n")
    make_client(app_version="v" * 100).activate(key_token)
    body = _activation_body(server)
    assert body["hostname"] == ("host" + "h" * 300)[:253]
    assert body["appVersion"] == "v" * 64 and "platform" not in body
