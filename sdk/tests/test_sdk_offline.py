"""Machine files, offline activation requests, proofs and status lists in the SDK (no
sockets: the issuer signs with jwcrypto, the server is a transport-level fake)."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk, jws
from licensing_client import InvalidToken, LicenseRevoked, LicensingClient
from licensing_client import offline as sdk
from licensing_client.http import Response
from sdk_fakes import BASE_URL, ISSUER, PRODUCT, FakeClock, FakeServer, Issuer, encrypt
from sdk_fakes import license_claims as base_claims

LIST_URI = f"{BASE_URL}/status-lists/0"


def file_claims(clock: FakeClock, index: int = 5, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "exp": int(clock.now) + 3 * 86_400,
        "machineId": "vault-1",
        "activationId": "a" * 40,
        "mode": "offline",
        "status": {"status_list": {"idx": index, "uri": LIST_URI}},
    }
    return base_claims(clock.now, **{**fields, **overrides})


def status_list(issuer: Issuer, clock: FakeClock, revoked: set[int], **overrides: Any) -> str:
    data = bytearray(1024)
    for index in revoked:
        data[index // 8] |= 1 << (index % 8)
    lst = base64.urlsafe_b64encode(zlib.compress(bytes(data), 9)).rstrip(b"=").decode()
    claims = {
        "iss": ISSUER,
        "sub": LIST_URI,
        "iat": int(clock.now),
        "exp": int(clock.now) + 86_400,
        "ttl": 60,
        "status_list": {"bits": 1, "lst": lst},
        **overrides,
    }
    return issuer.sign(claims, typ="statuslist+jwt")


class ListServer:
    """The fake server, plus the status list it serves now."""

    def __init__(self, server: FakeServer, token: str) -> None:
        self.server, self.token, self.fetches = server, token, 0

    def __call__(self, method: str, url: str, **kwargs: Any) -> Response:
        if url == LIST_URI:
            self.fetches += 1
            if not self.server.reachable:
                return self.server(method, url, **kwargs)  # raises the network error
            return Response(
                200, {"content-type": "application/statuslist+jwt"}, self.token.encode()
            )
        return self.server(method, url, **kwargs)


@pytest.fixture
def air_gapped(issuer: Issuer, clock: FakeClock, tmp_path: Path) -> Callable[..., LicensingClient]:
    def make(**options: Any) -> LicensingClient:
        return LicensingClient.offline(
            jwks=issuer.jwks, issuer=ISSUER, product=PRODUCT, data_dir=tmp_path / "vault",
            clock=clock, **options,
        )  # fmt: skip

    return make


def sealed_file(issuer: Issuer, client: LicensingClient, claims: Mapping[str, Any]) -> str:
    """A machine file as the server answers a request: signed, sealed to the machine key."""
    key = client.machine_files._key(create=True)
    return encrypt(issuer.sign(dict(claims), typ="machine-file+jwt"), key.public_key())


def test_a_request_is_a_jws_of_the_machine_key_that_a_foreign_library_verifies(
    air_gapped: Callable[..., LicensingClient], key_token: str
) -> None:
    client = air_gapped()
    request = client.machine_files.request(key_token, machine_id="vault-1")
    header = json.loads(base64.urlsafe_b64decode(request.split(".")[0] + "=="))
    assert header["typ"] == "activation-request+jwt" and header["alg"] == "RS256"
    assert set(header["jwk"]) == {"kty", "n", "e"}
    verified = jws.JWS()
    verified.deserialize(request)
    verified.verify(jwk.JWK(**header["jwk"]), alg="RS256")
    claims = json.loads(verified.payload)
    assert claims["licenseKey"] == key_token and claims["machineId"] == "vault-1"
    assert claims["aud"] == PRODUCT and len(claims["nonce"]) >= 16
    assert client.machine_files.request(key_token, machine_id="vault-1") != request  # new nonce


def test_an_imported_file_runs_offline_until_it_expires(
    air_gapped: Callable[..., LicensingClient], issuer: Issuer, clock: FakeClock, key_token: str
) -> None:
    client = air_gapped()
    client.machine_files.request(key_token, machine_id="vault-1")
    held = client.machine_files.import_file(sealed_file(issuer, client, file_claims(clock)))
    assert held.has("sso") and client.has("sso")
    again = air_gapped()  # restarted: the file and key come from the data directory
    assert again.machine_files.load() is not None and again.has("sso")
    clock.advance(3 * 86_400 + 60)
    with pytest.raises(InvalidToken) as caught:
        air_gapped().machine_files.load()
    assert caught.value.code == "EXPIRED"


def test_a_file_is_never_a_key_nor_a_machine_token_and_never_another_machines(
    air_gapped: Callable[..., LicensingClient], issuer: Issuer, clock: FakeClock, key_token: str
) -> None:
    client = air_gapped()
    client.machine_files.request(key_token, machine_id="vault-1")
    signed_file = issuer.sign(file_claims(clock), typ="machine-file+jwt")
    cases = {
        key_token: "WRONG_TOKEN_TYPE",
        issuer.sign(file_claims(clock, cid="lic_1.x"), typ="activation+jwt"): "WRONG_TOKEN_TYPE",
        issuer.sign(file_claims(clock, machineId="vault-2"), typ="machine-file+jwt"): "WRONG_ACTIVATION",
        issuer.sign(file_claims(clock, status=None), typ="machine-file+jwt"): "MALFORMED",
        issuer.sign(file_claims(clock, aud="Other"), typ="machine-file+jwt"): "WRONG_AUDIENCE",
    }  # fmt: skip
    for token, code in cases.items():
        with pytest.raises(InvalidToken) as caught:
            client.machine_files.import_file(token)
        assert caught.value.code == code
    with pytest.raises(InvalidToken) as caught:
        client.verify_license_key(signed_file)
    assert caught.value.code == "WRONG_TOKEN_TYPE"
    with pytest.raises(InvalidToken) as caught:
        client.verify_machine_token(signed_file)
    assert caught.value.code == "WRONG_TOKEN_TYPE"


def test_a_set_bit_refuses_the_file_online_and_then_offline_and_a_clear_one_restores_it(
    issuer: Issuer, clock: FakeClock, server: FakeServer, tmp_path: Path, key_token: str
) -> None:
    lists = ListServer(server, status_list(issuer, clock, {1, 2}))

    def online() -> LicensingClient:
        return LicensingClient(BASE_URL, product=PRODUCT, data_dir=tmp_path, clock=clock,
                               transport=lists, machine_id="vault-1")  # fmt: skip

    client = online()
    client.machine_files.import_file(sealed_file(issuer, client, file_claims(clock)))
    assert client.machine_files.load() is not None and lists.fetches == 1
    clock.advance(600)
    lists.token = status_list(issuer, clock, {5})  # suspended
    with pytest.raises(LicenseRevoked) as caught:
        online().machine_files.load()
    assert caught.value.code == "FILE_REVOKED"
    server.reachable = False  # offline: the list kept here still refuses the file
    with pytest.raises(LicenseRevoked):
        online().machine_files.load()
    stale = status_list(issuer, clock, set(), iat=int(clock.now) - 300)  # replayed: older
    clock.advance(600)
    server.reachable = True
    lists.token = stale
    with pytest.raises(LicenseRevoked):
        online().machine_files.load()
    lists.token = status_list(issuer, clock, set())  # reinstated: a newer list clears it
    restored = online()
    assert restored.machine_files.load() is not None and restored.has("sso")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"sub": f"{BASE_URL}/status-lists/1"}, "MALFORMED"),
        ({"iss": "https://elsewhere.test"}, "WRONG_ISSUER"),
        ({"status_list": {"bits": 2, "lst": "eNrbuRgAAhcBXQ"}}, "MALFORMED"),
        ({"status_list": {"bits": 1}}, "MALFORMED"),
        ({"status_list": {"bits": 1, "lst": "bm90IHpsaWI"}}, "MALFORMED"),
        ({"exp": None}, "MALFORMED"),
    ],
)
def test_status_lists_are_verified_strictly(
    issuer: Issuer, clock: FakeClock, overrides: dict[str, Any], code: str
) -> None:
    token = status_list(issuer, clock, set(), **overrides)
    with pytest.raises(InvalidToken) as caught:
        sdk.verify_status_list(
            token, keys=sdk_keys(issuer), issuer=ISSUER, uri=LIST_URI, now=clock.now
        )
    assert caught.value.code == code


def sdk_keys(issuer: Issuer) -> Callable[[str], rsa.RSAPublicKey | None]:
    return LicensingClient.offline(jwks=issuer.jwks, issuer=ISSUER, product=PRODUCT).discovery.key


def test_a_status_list_that_inflates_too_far_is_refused_and_one_too_old_is_expired(
    issuer: Issuer, clock: FakeClock
) -> None:
    bomb = zlib.compress(bytes(sdk.MAX_STATUS_LIST_BITS // 8 + 1), 9)
    lst = base64.urlsafe_b64encode(bomb).rstrip(b"=").decode()
    token = status_list(issuer, clock, set(), status_list={"bits": 1, "lst": lst})
    keys = sdk_keys(issuer)
    with pytest.raises(InvalidToken) as caught:
        sdk.verify_status_list(token, keys=keys, issuer=ISSUER, uri=LIST_URI, now=clock.now)
    assert caught.value.code == "MALFORMED"
    old = status_list(issuer, clock, {3})
    later = clock.now + 2 * 86_400
    with pytest.raises(InvalidToken) as caught:
        sdk.verify_status_list(old, keys=keys, issuer=ISSUER, uri=LIST_URI, now=later)
    assert caught.value.code == "EXPIRED"
    kept = sdk.verify_status_list(
        old, keys=keys, issuer=ISSUER, uri=LIST_URI, now=later, fresh=False
    )
    assert kept.revoked(3) and not kept.revoked(4)
    assert kept.revoked(len(kept.bits) * 8)  # an index the list does not cover: refused


def test_the_spec_example_decodes(issuer: Issuer, clock: FakeClock) -> None:
    """draft-ietf-oauth-status-list's one-bit example: statuses 1,0,0,1,1,1,0,1, 1,1,0,0,0,1,0,1."""
    token = status_list(issuer, clock, set(), status_list={"bits": 1, "lst": "eNrbuRgAAhcBXQ"})
    listed = sdk.verify_status_list(
        token, keys=sdk_keys(issuer), issuer=ISSUER, uri=LIST_URI, now=clock.now
    )
    assert [int(listed.revoked(i)) for i in range(16)] == [
        1,
        0,
        0,
        1,
        1,
        1,
        0,
        1,
        1,
        1,
        0,
        0,
        0,
        1,
        0,
        1,
    ]


def test_a_deactivation_proof_is_signed_by_the_machine_key_and_the_file_is_gone(
    air_gapped: Callable[..., LicensingClient], issuer: Issuer, clock: FakeClock, key_token: str
) -> None:
    client = air_gapped()
    request = client.machine_files.request(key_token, machine_id="vault-1")
    client.machine_files.import_file(sealed_file(issuer, client, file_claims(clock)))
    proof = client.machine_files.deactivation_proof()
    assert client.machine_files.load() is None and not client.has("sso")
    header = json.loads(base64.urlsafe_b64decode(request.split(".")[0] + "=="))
    verified = jws.JWS()
    verified.deserialize(proof)
    verified.verify(jwk.JWK(**header["jwk"]), alg="RS256")
    assert json.loads(base64.urlsafe_b64decode(proof.split(".")[0] + "=="))["typ"] == (
        "deactivation-proof+jwt"
    )
    assert json.loads(verified.payload)["activationId"] == "a" * 40
