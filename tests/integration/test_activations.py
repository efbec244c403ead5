"""Activation, heartbeat, deactivation and seats through the handlers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwe as foreign_jwe
from joserfc.jwk import RSAKey
from jwcrypto import jwe, jwk
from licensing_core.domain.ids import set_clock, utcnow
from licensing_core.store.models import (
    ActivationRecord,
    AuditRecord,
    CustomerRecord,
    LicenseRecord,
    UniqueRecord,
)

from tests import table_grants
from tests.support import Response, invoke

Admin = Callable[..., Response]


@pytest.fixture
def customer(admin: Admin) -> str:
    return str(
        admin("POST", "/customers", {"email": "ada@example.com", "name": "Ada"}).json["customerId"]
    )


@pytest.fixture
def key(
    admin: Admin, product: str, tiers: dict[str, str], customer: str
) -> Callable[..., dict[str, Any]]:
    def issue(tier: str = "pro") -> dict[str, Any]:
        response = admin(
            "POST",
            "/license-keys",
            {
                "productId": product,
                "tierId": tiers[tier],
                "customerId": customer,
                "perpetual": True,
            },
        )
        assert response.status == 201, response.text
        result: dict[str, Any] = response.json
        return result

    return issue


def activate(key_token: str, machine: str, **extra: Any) -> Response:
    return invoke(
        "POST",
        "/license-activations/activate",
        body={"keyToken": key_token, "machineId": machine, **extra},
    )


def heartbeat(client_id: str) -> Response:
    return invoke("POST", "/license-keys/heartbeat", body={"clientId": client_id})


def seats(license_id: str) -> int:
    return int(LicenseRecord.get(license_id).active_seats)


def live_activations(license_id: str) -> int:
    return sum(1 for a in ActivationRecord.query(license_id) if a.status == "active")


def jwks() -> pyjwt.PyJWKSet:
    return pyjwt.PyJWKSet.from_dict(invoke("GET", "/.well-known/jwks.json").json)


def verify_machine_token(token: str) -> dict[str, Any]:
    header = pyjwt.get_unverified_header(token)
    assert header["typ"] == "activation+jwt"
    claims: dict[str, Any] = pyjwt.decode(
        token, key=jwks()[header["kid"]], algorithms=["RS256"], audience="Rdn.Identity"
    )
    return claims


def test_activation_returns_a_signed_machine_token_and_takes_a_seat(
    key: Callable[..., dict[str, Any]],
) -> None:
    issued = key()
    response = activate(issued["keyToken"], "machine-1")
    assert response.status == 201, response.text
    body = response.json
    assert body["tokenType"] == "jws" and len(body["clientId"].split(".")[1]) >= 22
    claims = verify_machine_token(body["token"])
    assert (claims["cid"], claims["machineId"], claims["sub"]) == (
        body["clientId"],
        "machine-1",
        issued["licenseId"],
    )
    assert claims["exp"] - claims["iat"] == 172800  # heartbeat ttl, not the license's
    assert claims["features"] == ["multi_tenant", "passkeys", "sso"]
    assert seats(issued["licenseId"]) == 1
    stored = ActivationRecord.get(issued["licenseId"], body["activationId"])
    assert body["clientId"] not in json.dumps(stored.attribute_values, default=str)  # only a hash


def test_a_machine_key_gets_a_jwe_only_it_can_read(key: Callable[..., dict[str, Any]]) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    body = activate(key()["keyToken"], "laptop", publicKey=pem).json
    assert body["tokenType"] == "jwe" and body["token"].count(".") == 4
    # jwcrypto, with the machine's private key
    envelope = jwe.JWE()
    envelope.deserialize(body["token"], key=jwk.JWK.from_pyca(private))
    assert envelope.jose_header == {"alg": "RSA-OAEP", "enc": "A256CBC-HS512", "cty": "JWT"}
    inner = envelope.payload.decode()
    assert verify_machine_token(inner)["machineId"] == "laptop"
    # joserfc, a second and foreign JOSE implementation
    foreign = foreign_jwe.decrypt_compact(
        body["token"], RSAKey.import_key(private), algorithms=["RSA-OAEP", "A256CBC-HS512"]
    )
    assert foreign.plaintext.decode() == inner
    # heartbeats stay encrypted to the machine
    renewed = heartbeat(body["clientId"]).json
    assert renewed["tokenType"] == "jwe"


def test_reactivating_a_machine_takes_no_second_seat(key: Callable[..., dict[str, Any]]) -> None:
    issued = key()
    first = activate(issued["keyToken"], "m1").json
    again = activate(issued["keyToken"], "m1")
    assert again.status == 200, again.text
    assert again.json["clientId"] != first["clientId"]
    assert seats(issued["licenseId"]) == live_activations(issued["licenseId"]) == 1
    assert heartbeat(first["clientId"]).json["code"] == "UNKNOWN_CLIENT"
    assert heartbeat(again.json["clientId"]).status == 200


def test_the_seat_limit_holds_and_deactivation_frees_exactly_one(
    key: Callable[..., dict[str, Any]],
) -> None:
    issued = key("free")  # maxUsers 1
    first = activate(issued["keyToken"], "m1").json
    full = activate(issued["keyToken"], "m2")
    assert (full.status, full.json["code"], full.json["maxUsers"]) == (409, "SEAT_LIMIT_REACHED", 1)
    done = invoke("POST", "/license-activations/deactivate", body={"clientId": first["clientId"]})
    assert done.json == {"deactivated": True}
    again = invoke("POST", "/license-activations/deactivate", body={"clientId": first["clientId"]})
    assert again.json == {"deactivated": False}
    assert seats(issued["licenseId"]) == 0
    assert activate(issued["keyToken"], "m2").status == 201
    assert seats(issued["licenseId"]) == live_activations(issued["licenseId"]) == 1


def test_heartbeat_renews_and_refuses_a_revoked_license_at_once(
    admin: Admin, key: Callable[..., dict[str, Any]]
) -> None:
    issued = key()
    client_id = activate(issued["keyToken"], "m1").json["clientId"]
    renewed = heartbeat(client_id)
    assert renewed.status == 200 and verify_machine_token(renewed.json["token"])["cid"] == client_id
    admin("POST", f"/license-keys/{issued['licenseId']}/revoke", {"reason": "refund"})
    refused = heartbeat(client_id)
    assert (refused.status, refused.json["code"]) == (403, "REVOKED")
    assert (
        invoke("POST", "/license-keys/validate", body={"keyToken": issued["keyToken"]}).json["code"]
        == "REVOKED"
    )


@pytest.mark.parametrize("change", ["suspend", "deactivate identity"])
def test_heartbeat_refuses_suspended_licenses_and_deactivated_identities(
    admin: Admin, key: Callable[..., dict[str, Any]], customer: str, change: str
) -> None:
    issued = key()
    client_id = activate(issued["keyToken"], "m1").json["clientId"]
    if change == "suspend":
        admin("POST", f"/license-keys/{issued['licenseId']}/suspend", {"reason": "unpaid"})
        expected = "SUSPENDED"
    else:
        CustomerRecord.get(customer).update(actions=[CustomerRecord.status.set("deactivated")])
        expected = "IDENTITY_DEACTIVATED"
    assert heartbeat(client_id).json["code"] == expected


def test_a_revocation_racing_a_heartbeat_wins(
    admin: Admin, key: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revoke lands between the heartbeat's checks and its write: no token is issued."""
    from licensing_core.services import activations

    issued = key()
    client_id = activate(issued["keyToken"], "m1").json["clientId"]
    original = activations._machine_token

    def sign_then_revoke(*args: Any) -> Any:
        token = original(*args)
        with table_grants.elsewhere():
            license = LicenseRecord.get(issued["licenseId"])
            license.update(actions=[LicenseRecord.status.set("revoked")])
        return token

    monkeypatch.setattr(activations, "_machine_token", sign_then_revoke)
    refused = heartbeat(client_id)
    assert (refused.status, refused.json["code"]) == (403, "REVOKED")
    assert "token" not in refused.json


def test_a_dead_seat_is_reclaimed_and_the_dead_machine_is_told(
    key: Callable[..., dict[str, Any]],
) -> None:
    issued = key("free")
    dead = activate(issued["keyToken"], "crashed").json
    start = utcnow()
    set_clock(lambda: start + timedelta(seconds=172800 + 1))
    assert heartbeat(dead["clientId"]).json["code"] == "ACTIVATION_DEAD"
    taken = activate(issued["keyToken"], "replacement")
    assert taken.status == 201, taken.text
    assert seats(issued["licenseId"]) == live_activations(issued["licenseId"]) == 1
    told = heartbeat(dead["clientId"])
    assert (told.status, told.json["code"]) == (410, "ACTIVATION_DEAD")
    assert heartbeat(taken.json["clientId"]).status == 200
    history = invoke_history(issued["licenseId"])
    assert "activation.reclaimed" in history


def invoke_history(license_id: str) -> list[str]:
    return [r.action for r in AuditRecord.query(license_id)]


def test_an_alive_seat_is_never_reclaimed(key: Callable[..., dict[str, Any]]) -> None:
    issued = key("free")
    alive = activate(issued["keyToken"], "alive").json
    start = utcnow()
    set_clock(lambda: start + timedelta(seconds=172800 - 60))
    assert heartbeat(alive["clientId"]).status == 200
    set_clock(lambda: start + timedelta(seconds=172800 + 1))  # silent for 61 s only
    assert activate(issued["keyToken"], "other").json["code"] == "SEAT_LIMIT_REACHED"


def test_activating_a_key_revokes_its_siblings(
    admin: Admin, key: Callable[..., dict[str, Any]]
) -> None:
    old, new = key(), key()
    assert activate(new["keyToken"], "m1").status == 201
    assert LicenseRecord.get(old["licenseId"]).status == "revoked"
    assert LicenseRecord.get(old["licenseId"]).status_reason.startswith("superseded by activation")
    assert LicenseRecord.get(new["licenseId"]).status == "active"


def test_admins_list_and_force_deactivate(admin: Admin, key: Callable[..., dict[str, Any]]) -> None:
    issued = key()
    for machine in ("a", "b"):
        activate(issued["keyToken"], machine)
    listing = admin("GET", f"/license-keys/{issued['licenseId']}/activations").json
    assert (listing["activeSeats"], listing["maxUsers"]) == (2, 5)
    assert {a["machineId"] for a in listing["items"]} == {"a", "b"}
    assert all("clientId" not in a for a in listing["items"])
    target = listing["items"][0]["activationId"]
    path = f"/license-keys/{issued['licenseId']}/activations/{target}/deactivate"
    assert admin("POST", path).json == {"deactivated": True}
    assert admin("POST", path).status == 404
    assert seats(issued["licenseId"]) == 1


def counts() -> tuple[int, ...]:
    return tuple(m.count() for m in (ActivationRecord, UniqueRecord, AuditRecord)) + tuple(
        int(r.active_seats) for r in LicenseRecord.scan()
    )


def pem(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


BAD_ACTIVATIONS: list[tuple[str, Callable[[str], dict[str, Any]], int, str]] = [
    ("no machineId", lambda k: {"keyToken": k}, 422, "VALIDATION_FAILED"),
    (
        "oversized machineId",
        lambda k: {"keyToken": k, "machineId": "m" * 257},
        422,
        "VALIDATION_FAILED",
    ),
    (
        "machineId with spaces",
        lambda k: {"keyToken": k, "machineId": "my laptop"},
        422,
        "VALIDATION_FAILED",
    ),
    (
        "1024-bit key",
        lambda k: {
            "keyToken": k,
            "machineId": "m",
            "publicKey": pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        },
        422,
        "INVALID_PUBLIC_KEY",
    ),
    (
        "EC key",
        lambda k: {
            "keyToken": k,
            "machineId": "m",
            "publicKey": pem(ec.generate_private_key(ec.SECP256R1())),
        },
        422,
        "INVALID_PUBLIC_KEY",
    ),
    (
        "private JWK",
        lambda k: {
            "keyToken": k,
            "machineId": "m",
            "publicKey": jwk.JWK.generate(kty="RSA", size=2048).export_private(as_dict=True),
        },
        422,
        "INVALID_PUBLIC_KEY",
    ),
    (
        "private PEM",
        lambda k: {
            "keyToken": k,
            "machineId": "m",
            "publicKey": rsa.generate_private_key(public_exponent=65537, key_size=2048)
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode(),
        },
        422,
        "INVALID_PUBLIC_KEY",
    ),
    (
        "garbage PEM",
        lambda k: {"keyToken": k, "machineId": "m", "publicKey": "-----BEGIN nonsense"},
        422,
        "INVALID_PUBLIC_KEY",
    ),
    (
        "another product",
        lambda k: {"keyToken": k, "machineId": "m", "product": "Other.Product"},
        403,
        "WRONG_AUDIENCE",
    ),
    (
        "forged key",
        lambda k: {"keyToken": k[:-4] + "AAAA", "machineId": "m"},
        403,
        "SIGNATURE_INVALID",
    ),
    (
        "unknown fields",
        lambda k: {"keyToken": k, "machineId": "m", "activeSeats": 0},
        422,
        "VALIDATION_FAILED",
    ),
]


@pytest.mark.parametrize(
    ("name", "make", "status", "code"), BAD_ACTIVATIONS, ids=[b[0] for b in BAD_ACTIVATIONS]
)
def test_bad_activations_write_nothing(
    key: Callable[..., dict[str, Any]],
    name: str,
    make: Callable[[str], dict[str, Any]],
    status: int,
    code: str,
) -> None:
    token = key()["keyToken"]
    before = counts()
    response = invoke("POST", "/license-activations/activate", body=make(token))
    assert (response.status, response.json["code"]) == (status, code), response.text
    assert counts() == before


@pytest.mark.parametrize("client_id", ["nope", "lic_x.short", "lic_missing." + "A" * 32])
def test_unknown_clients_are_404(aws: object, client_id: str) -> None:
    response = heartbeat(client_id)
    assert (response.status, response.json["code"]) == (404, "UNKNOWN_CLIENT")
    assert invoke("POST", "/license-activations/deactivate", body={"clientId": client_id}).json == {
        "deactivated": False
    }
