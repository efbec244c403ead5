"""Offline machines through the handlers: machine files (checkout), the status list and
the consumer that sets its bits, offline activation and deactivation by signed request
and proof, borrowed seats. Requests and proofs are written by the SDK's own functions
(and forged with cryptography where a test needs a bad one); files are verified with a
foreign JOSE implementation (PyJWT, joserfc)."""

from __future__ import annotations

import base64
import json
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwe as foreign_jwe
from joserfc.jwk import RSAKey
from licensing_client import jose as sdk_jose
from licensing_client import offline as sdk
from licensing_core.domain.ids import set_clock, utcnow
from licensing_core.settings import get_settings
from licensing_core.store.models import ActivationRecord, AuditRecord, LicenseRecord

from local.streams import EventSourceMapping, StreamCursor
from tests.integration.conftest import tier_body
from tests.support import Response, invoke, load_handler

Admin = Callable[..., Response]
DAY = 86_400
POLICY = {"allowed": True, "defaultTtlSeconds": 7 * DAY, "maxTtlSeconds": 30 * DAY,
          "maxBorrowSeconds": 3 * DAY}  # fmt: skip


@pytest.fixture
def offline_tier(admin: Admin, product: str) -> Callable[..., str]:
    def create(max_users: int = 2, **policy: Any) -> str:
        created = admin(
            "POST",
            f"/products/{product}/tiers",
            tier_body(f"off-{uuid.uuid4().hex[:8]}", maxUsers=max_users,
                      offline={**POLICY, **policy}),
        )  # fmt: skip
        assert created.status == 201, created.text
        return str(created.json["tierId"])

    return create


@pytest.fixture
def license_of(admin: Admin, product: str) -> Callable[[str], dict[str, Any]]:
    def issue(tier_id: str) -> dict[str, Any]:
        customer = admin(
            "POST", "/customers", {"email": f"off-{uuid.uuid4().hex}@example.com", "name": "Off"}
        )
        issued = admin(
            "POST",
            "/license-keys",
            {"productId": product, "tierId": tier_id,
             "customerId": customer.json["customerId"], "perpetual": True},
        )  # fmt: skip
        assert issued.status == 201, issued.text
        return dict(issued.json)

    return issue


@pytest.fixture(scope="module")
def machine_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def bits(aws: Any) -> Iterator[Callable[[], None]]:
    """Run the status bits consumer over the audit stream until it is consumed."""
    audit_table = get_settings().table_name(AuditRecord.logical_name)
    mapping = EventSourceMapping(
        StreamCursor.at_end(audit_table, "123456789012", "us-east-1"),
        load_handler("flip_status_bits").handler,
        on_failure=lambda records: pytest.fail(f"gave up on {records}"),
    )

    def drain() -> None:
        while mapping.cursor.batch(1):
            mapping.poll()

    yield drain


def jwks() -> pyjwt.PyJWKSet:
    return pyjwt.PyJWKSet.from_dict(invoke("GET", "/.well-known/jwks.json").json)


def foreign_verify(signed: str, typ: str, audience: str | None = None) -> dict[str, Any]:
    """PyJWT: RS256 by a published key, the typ pinned, exp required."""
    header = pyjwt.get_unverified_header(signed)
    assert header["typ"] == typ and header["alg"] == "RS256"
    key = jwks()[header["kid"]].key
    claims: dict[str, Any] = pyjwt.decode(
        signed,
        key,
        algorithms=["RS256"],
        audience=audience,
        issuer=get_settings().issuer,
        options={"require": ["exp", "iat", "iss"], "verify_aud": audience is not None},
    )
    return claims


def file_claims(answer: dict[str, Any], key: rsa.RSAPrivateKey | None) -> dict[str, Any]:
    """Decrypt (joserfc, with only the machine key) and verify (PyJWT, with only the
    public JWKS) a machine file."""
    machine_file = answer["machineFile"]
    if key is not None:
        assert answer["fileType"] == "jwe"
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        opened = foreign_jwe.decrypt_compact(
            machine_file, RSAKey.import_key(private), algorithms=["RSA-OAEP", "A256CBC-HS512"]
        )
        assert opened.protected["cty"] == "JWT"
        machine_file = opened.plaintext.decode()
    return foreign_verify(machine_file, "machine-file+jwt", audience="Rdn.Identity")


def status_bit(uri: str, index: int) -> bool:
    """Fetch the list through its route and read one bit (PyJWT verifies it)."""
    path = uri.removeprefix("https://api.test")
    served = invoke("GET", path)
    assert served.status == 200, served.text
    assert served.headers["content-type"] == "application/statuslist+jwt"
    claims = foreign_verify(served.text, "statuslist+jwt")
    assert claims["sub"] == uri and claims["status_list"]["bits"] == 1
    data = zlib.decompress(base64.urlsafe_b64decode(claims["status_list"]["lst"] + "=="))
    return bool(data[index // 8] >> (index % 8) & 1)


def activate(key_token: str, machine: str, key: rsa.RSAPrivateKey | None = None) -> Response:
    body: dict[str, Any] = {"keyToken": key_token, "machineId": machine}
    if key is not None:
        body["publicKey"] = public_pem(key)
    return invoke("POST", "/license-activations/activate", body=body)


def request_for(key_token: str, machine: str, key: rsa.RSAPrivateKey, **overrides: Any) -> str:
    now = overrides.pop("now", utcnow().timestamp())
    return sdk.activation_request(
        key_token=key_token, machine_id=machine, product=overrides.pop("product", "Rdn.Identity"),
        key=key, now=now, **overrides,
    )  # fmt: skip


def offline(request: str, **extra: Any) -> Response:
    return invoke("POST", "/license-activations/offline", body={"request": request, **extra})


def seats(license_id: str) -> int:
    return int(LicenseRecord.get(license_id, consistent_read=True).active_seats)


def snapshot(license_id: str) -> tuple[int, list[str], int]:
    """Seats, activations and audit records of a license: what "nothing written" compares."""
    return (
        seats(license_id),
        sorted(a.activation_id for a in ActivationRecord.query(license_id)),
        sum(1 for _ in AuditRecord.query(license_id)),
    )


# --- Policy ------------------------------------------------------------------------


def test_a_tier_carries_its_offline_policy_and_none_by_default(
    admin: Admin, product: str, offline_tier: Callable[..., str]
) -> None:
    tier_id = offline_tier()
    tier = admin("GET", f"/products/{product}/tiers/{tier_id}").json
    assert tier["offline"] == POLICY
    plain = admin("POST", f"/products/{product}/tiers", tier_body("plain")).json
    assert plain["offline"]["allowed"] is False and plain["offline"]["maxBorrowSeconds"] == 0
    changed = admin(
        "PATCH", f"/products/{product}/tiers/{tier_id}", {"offline": {"allowed": False}}
    )
    assert changed.status == 200 and changed.json["offline"]["allowed"] is False
    for bad in ({"maxTtlSeconds": 59}, {"defaultTtlSeconds": 40 * DAY},
                {"maxBorrowSeconds": 60}, {"maxTtlSeconds": 400 * DAY}):  # fmt: skip
        refused = admin(
            "PATCH", f"/products/{product}/tiers/{tier_id}", {"offline": {**POLICY, **bad}}
        )
        assert refused.status == 422, (bad, refused.text)


# --- Checkout, the status list and its consumer --------------------------------------


def test_checkout_answers_a_file_sealed_to_the_machine_that_foreign_jose_verifies(
    offline_tier: Callable[..., str],
    license_of: Callable[[str], dict[str, Any]],
    machine_key: rsa.RSAPrivateKey,
) -> None:
    issued = license_of(offline_tier())
    activated = activate(issued["keyToken"], "laptop", machine_key).json
    answer = invoke(
        "POST",
        "/license-activations/checkout",
        body={"clientId": activated["clientId"], "ttlSeconds": 2 * DAY},
    )
    assert answer.status == 200, answer.text
    claims = file_claims(answer.json, machine_key)
    assert claims["sub"] == issued["licenseId"] and claims["machineId"] == "laptop"
    assert claims["activationId"] == activated["activationId"] and claims["mode"] == "checkout"
    assert claims["exp"] - claims["iat"] == 2 * DAY
    assert "cid" not in claims  # the heartbeat credential never rides in a file
    assert set(claims["status"]) == {"status_list"}
    entry = claims["status"]["status_list"]
    assert entry["uri"].startswith("https://api.test/status-lists/")
    assert status_bit(entry["uri"], entry["idx"]) is False
    record = ActivationRecord.get(issued["licenseId"], activated["activationId"])
    assert record.offline_until.timestamp() == claims["exp"]
    # a second checkout keeps the entry: all files of an activation share one bit
    again = invoke(
        "POST", "/license-activations/checkout", body={"clientId": activated["clientId"]}
    )
    second = file_claims(again.json, machine_key)
    assert second["status"] == claims["status"] and second["exp"] - second["iat"] == 7 * DAY


def test_a_file_never_outlives_its_license(
    admin: Admin, product: str, offline_tier: Callable[..., str]
) -> None:
    tier_id = offline_tier()
    customer = admin("POST", "/customers", {"email": "short@example.com", "name": "S"}).json
    ends = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    issued = admin(
        "POST", "/license-keys",
        {"productId": product, "tierId": tier_id, "customerId": customer["customerId"],
         "expiresAt": ends.isoformat()},
    ).json  # fmt: skip
    activated = activate(issued["keyToken"], "m").json
    answer = invoke(
        "POST", "/license-activations/checkout",
        body={"clientId": activated["clientId"], "ttlSeconds": 30 * DAY},
    )  # fmt: skip
    assert answer.status == 200, answer.text
    assert answer.json["fileType"] == "jws"  # no machine key: signed, not sealed
    assert file_claims(answer.json, None)["exp"] == int(ends.timestamp())


def test_checkout_refuses_above_the_policy_and_where_the_tier_forbids_writing_nothing(
    offline_tier: Callable[..., str],
    license_of: Callable[[str], dict[str, Any]],
    admin: Admin,
    product: str,
) -> None:
    issued = license_of(offline_tier())
    activated = activate(issued["keyToken"], "m").json
    before = snapshot(issued["licenseId"])
    above = invoke(
        "POST", "/license-activations/checkout",
        body={"clientId": activated["clientId"], "ttlSeconds": 31 * DAY},
    )  # fmt: skip
    assert above.status == 422 and above.json["code"] == "TTL_ABOVE_POLICY", above.text
    assert above.json["maxTtlSeconds"] == 30 * DAY
    plain = admin("POST", f"/products/{product}/tiers", tier_body("online-only", maxUsers=2)).json
    other = license_of(plain["tierId"])
    online_only = activate(other["keyToken"], "m").json
    refused = invoke(
        "POST", "/license-activations/checkout", body={"clientId": online_only["clientId"]}
    )
    assert refused.status == 403 and refused.json["code"] == "OFFLINE_NOT_ALLOWED", refused.text
    assert snapshot(issued["licenseId"]) == before
    assert ActivationRecord.get(issued["licenseId"], activated["activationId"]).status_entry is None


def test_the_status_list_is_signed_cacheable_and_revalidates_with_its_etag(
    offline_tier: Callable[..., str], license_of: Callable[[str], dict[str, Any]]
) -> None:
    issued = license_of(offline_tier())
    activated = activate(issued["keyToken"], "m").json
    answer = invoke(
        "POST", "/license-activations/checkout", body={"clientId": activated["clientId"]}
    )
    uri = file_claims(answer.json, None)["status"]["status_list"]["uri"]
    path = uri.removeprefix("https://api.test")
    served = invoke("GET", path)
    assert served.status == 200
    assert served.headers["cache-control"] == "public, max-age=60"
    claims = foreign_verify(served.text, "statuslist+jwt")
    assert claims["ttl"] == 60 and claims["exp"] > claims["iat"]
    assert (
        len(zlib.decompress(base64.urlsafe_b64decode(claims["status_list"]["lst"] + "==")))
        == 1 << 17
    )
    etag = served.headers["etag"]
    unchanged = invoke("GET", path, headers={"if-none-match": etag})
    assert unchanged.status == 304 and unchanged.text == "" and unchanged.headers["etag"] == etag
    assert invoke("GET", "/status-lists/7").json["code"] == "STATUS_LIST_NOT_FOUND"
    assert invoke("GET", "/status-lists/007").status == 404


def test_revoking_sets_the_bit_reinstating_a_suspension_clears_it_deactivating_sets_it(
    offline_tier: Callable[..., str],
    license_of: Callable[[str], dict[str, Any]],
    admin: Admin,
    bits: Callable[[], None],
) -> None:
    tier_id = offline_tier()
    files: dict[str, dict[str, Any]] = {}
    for name in ("revoked", "suspended", "deactivated", "bystander"):
        issued = license_of(tier_id)
        activated = activate(issued["keyToken"], name).json
        answer = invoke(
            "POST", "/license-activations/checkout", body={"clientId": activated["clientId"]}
        )
        files[name] = {**issued, **activated,
                       **file_claims(answer.json, None)["status"]["status_list"]}  # fmt: skip
    reason = {"reason": "test"}
    assert (
        admin("POST", f"/license-keys/{files['revoked']['licenseId']}/revoke", reason).status == 200
    )
    assert (
        admin("POST", f"/license-keys/{files['suspended']['licenseId']}/suspend", reason).status
        == 200
    )
    gone = invoke(
        "POST",
        "/license-activations/deactivate",
        body={"clientId": files["deactivated"]["clientId"]},
    )
    assert gone.json["deactivated"] is True
    bits()
    assert {name: status_bit(f["uri"], f["idx"]) for name, f in files.items()} == {
        "revoked": True, "suspended": True, "deactivated": True, "bystander": False,
    }  # fmt: skip
    back = admin("POST", f"/license-keys/{files['suspended']['licenseId']}/reinstate", reason)
    assert back.status == 200, back.text
    bits()
    assert status_bit(files["suspended"]["uri"], files["suspended"]["idx"]) is False
    bits()  # redelivery changes nothing
    assert status_bit(files["revoked"]["uri"], files["revoked"]["idx"]) is True


def test_deactivating_an_identity_sets_the_bits_of_all_its_files(
    offline_tier: Callable[..., str],
    license_of: Callable[[str], dict[str, Any]],
    admin: Admin,
    bits: Callable[[], None],
) -> None:
    issued = license_of(offline_tier())
    activated = activate(issued["keyToken"], "m").json
    answer = invoke(
        "POST", "/license-activations/checkout", body={"clientId": activated["clientId"]}
    )
    entry = file_claims(answer.json, None)["status"]["status_list"]
    customer = LicenseRecord.get(issued["licenseId"]).customer_id
    assert admin("POST", f"/customers/{customer}/deactivate", {"reason": "left"}).status == 200
    bits()
    assert status_bit(entry["uri"], entry["idx"]) is True


def test_a_file_holds_its_seat_past_the_heartbeat_lifetime_and_then_it_is_reclaimed(
    offline_tier: Callable[..., str], license_of: Callable[[str], dict[str, Any]]
) -> None:
    issued = license_of(offline_tier(max_users=1))
    first = activate(issued["keyToken"], "away").json
    assert invoke("POST", "/license-activations/checkout",
                  body={"clientId": first["clientId"], "ttlSeconds": 5 * DAY}).status == 200  # fmt: skip
    start = utcnow()
    try:
        set_clock(lambda: start + timedelta(days=4))  # silent past 48 h, the file still runs
        refused = activate(issued["keyToken"], "other")
        assert refused.status == 409 and refused.json["code"] == "SEAT_LIMIT_REACHED"
        assert (
            invoke("POST", "/license-keys/heartbeat", body={"clientId": first["clientId"]}).status
            == 200
        )
        set_clock(lambda: start + timedelta(days=8))  # the file ended, and 48 h of silence
        assert activate(issued["keyToken"], "other").status == 201
    finally:
        set_clock(None)


# --- Offline activation and deactivation ---------------------------------------------


def test_offline_activation_fills_the_seats_and_a_proof_frees_exactly_one(
    offline_tier: Callable[..., str],
    license_of: Callable[[str], dict[str, Any]],
) -> None:
    issued = license_of(offline_tier(max_users=2))
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]
    answers = [
        offline(request_for(issued["keyToken"], f"vault-{n}", key)) for n, key in enumerate(keys)
    ]
    assert [a.status for a in answers[:2]] == [201, 201], [a.text for a in answers]
    assert answers[2].status == 409 and answers[2].json["code"] == "SEAT_LIMIT_REACHED"
    assert seats(issued["licenseId"]) == 2
    claims = file_claims(answers[0].json, keys[0])
    assert claims["mode"] == "offline" and claims["machineId"] == "vault-0"
    assert claims["exp"] - claims["iat"] == 7 * DAY

    def proof(key: rsa.RSAPrivateKey, typ: str = sdk.DEACTIVATION_PROOF_TYP) -> str:
        return sdk.seat_proof(license_id=issued["licenseId"], activation_id=claims["activationId"],
                              key=key, now=utcnow().timestamp(), typ=typ)  # fmt: skip

    before = snapshot(issued["licenseId"])
    forged = invoke(
        "POST", "/license-activations/offline-deactivate", body={"proof": proof(keys[1])}
    )
    assert forged.status == 422 and forged.json["code"] == "SIGNATURE_INVALID", forged.text
    as_return = invoke(
        "POST", "/license-activations/return", body={"proof": proof(keys[0], sdk.RETURN_PROOF_TYP)}
    )
    assert as_return.status == 409 and as_return.json["code"] == "NOT_BORROWED"
    wrong_typ = invoke("POST", "/license-activations/offline-deactivate",
                       body={"proof": proof(keys[0], sdk.RETURN_PROOF_TYP)})  # fmt: skip
    assert wrong_typ.status == 422 and wrong_typ.json["code"] == "WRONG_TOKEN_TYPE"
    assert snapshot(issued["licenseId"]) == before
    good = proof(keys[0])
    freed = invoke("POST", "/license-activations/offline-deactivate", body={"proof": good})
    assert freed.status == 200 and freed.json == {"deactivated": True}
    assert seats(issued["licenseId"]) == 1
    replay = invoke("POST", "/license-activations/offline-deactivate", body={"proof": good})
    assert replay.status == 200 and replay.json == {"deactivated": False}
    assert seats(issued["licenseId"]) == 1
    assert offline(request_for(issued["keyToken"], "vault-2", keys[2])).status == 201


def test_the_same_machine_activating_again_keeps_its_seat_and_ends_its_older_files(
    offline_tier: Callable[..., str],
    license_of: Callable[[str], dict[str, Any]],
    machine_key: rsa.RSAPrivateKey,
    bits: Callable[[], None],
) -> None:
    issued = license_of(offline_tier(max_users=1))
    first = file_claims(
        offline(request_for(issued["keyToken"], "vault", machine_key)).json, machine_key
    )
    renewed = offline(request_for(issued["keyToken"], "vault", machine_key))
    assert renewed.status == 201, renewed.text
    second = file_claims(renewed.json, machine_key)
    assert second["activationId"] != first["activationId"] and seats(issued["licenseId"]) == 1
    bits()
    old, new = first["status"]["status_list"], second["status"]["status_list"]
    assert status_bit(old["uri"], old["idx"]) is True
    assert status_bit(new["uri"], new["idx"]) is False


def _forged(header: dict[str, Any], claims: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    return sdk_jose.sign_jws(claims, typ=header.pop("typ"), key=key, header=header)


def test_bad_offline_requests_are_4xx_problems_and_write_nothing(
    offline_tier: Callable[..., str],
    license_of: Callable[[str], dict[str, Any]],
    machine_key: rsa.RSAPrivateKey,
    admin: Admin,
    product: str,
) -> None:
    issued = license_of(offline_tier(max_users=3))
    now = utcnow().timestamp()
    good = request_for(issued["keyToken"], "m", machine_key)
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    tampered = f"{header}.{sdk_jose.b64url_encode(json.dumps({**claims, 'machineId': 'x'}).encode())}.{signature}"
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = sdk_jose.public_jwk(machine_key)
    cases: dict[str, tuple[str, dict[str, Any], int, str]] = {
        "tampered": (tampered, {}, 422, "SIGNATURE_INVALID"),
        "signed by another key": (_forged({"typ": sdk.ACTIVATION_REQUEST_TYP, "jwk": jwk}, claims, other_key), {}, 422, "SIGNATURE_INVALID"),
        "another product": (request_for(issued["keyToken"], "m", machine_key, product="Other.App"), {}, 403, "WRONG_AUDIENCE"),
        "stale": (request_for(issued["keyToken"], "m", machine_key, now=now - 8 * DAY), {}, 422, "STALE_REQUEST"),
        "from the future": (request_for(issued["keyToken"], "m", machine_key, now=now + 3600), {}, 422, "STALE_REQUEST"),
        "ttl above policy": (good, {"ttlSeconds": 31 * DAY}, 422, "TTL_ABOVE_POLICY"),
        "a license key": (issued["keyToken"], {}, 422, "WRONG_TOKEN_TYPE"),
        "no jwk": (_forged({"typ": sdk.ACTIVATION_REQUEST_TYP}, claims, machine_key), {}, 422, "MALFORMED"),
        "a kid": (_forged({"typ": sdk.ACTIVATION_REQUEST_TYP, "jwk": jwk, "kid": "x"}, claims, machine_key), {}, 422, "MALFORMED"),
        "a small key": (request_for(issued["keyToken"], "m", rsa.generate_private_key(public_exponent=65537, key_size=1024)), {}, 422, "INVALID_PUBLIC_KEY"),
        "no nonce": (_forged({"typ": sdk.ACTIVATION_REQUEST_TYP, "jwk": jwk}, {**claims, "nonce": None}, machine_key), {}, 422, "MALFORMED"),
        "a key that is not a key": (request_for("not.a.key", "m", machine_key), {}, 403, "MALFORMED"),
    }  # fmt: skip
    before = snapshot(issued["licenseId"])
    for name, (request, extra, status, code) in cases.items():
        answer = offline(request, **extra)
        assert (answer.status, answer.json.get("code")) == (status, code), (name, answer.text)
    assert snapshot(issued["licenseId"]) == before
    assert offline(good).status == 201
    replayed = offline(good)
    assert replayed.status == 409 and replayed.json["code"] == "NONCE_REUSED"
    assert seats(issued["licenseId"]) == 1


def test_a_lost_answer_is_asked_again_with_its_key_and_a_replay_without_is_refused(
    offline_tier: Callable[..., str],
    license_of: Callable[[str], dict[str, Any]],
    machine_key: rsa.RSAPrivateKey,
) -> None:
    issued = license_of(offline_tier())
    request = request_for(issued["keyToken"], "vault", machine_key)

    def submit(key: str | None) -> Response:
        headers = {"idempotency-key": key} if key else None
        return invoke("POST", "/license-activations/offline", body={"request": request},
                      headers=headers)  # fmt: skip

    first, again = submit("carried-once"), submit("carried-once")
    assert first.status == again.status == 201 and again.json == first.json
    assert seats(issued["licenseId"]) == 1
    assert submit(None).json["code"] == "NONCE_REUSED"
    assert submit("another-key").json["code"] == "NONCE_REUSED"


def test_a_machine_file_is_never_a_license_key_nor_the_reverse(
    offline_tier: Callable[..., str],
    license_of: Callable[[str], dict[str, Any]],
) -> None:
    issued = license_of(offline_tier())
    activated = activate(issued["keyToken"], "m").json
    machine_file = invoke(
        "POST", "/license-activations/checkout", body={"clientId": activated["clientId"]}
    ).json["machineFile"]
    as_key = activate(machine_file, "m2")
    assert as_key.status == 403 and as_key.json["code"] == "WRONG_TOKEN_TYPE", as_key.text
    validated = invoke("POST", "/license-keys/validate", body={"keyToken": machine_file}).json
    assert validated["valid"] is False and validated["code"] == "WRONG_TOKEN_TYPE"
    as_proof = invoke(
        "POST", "/license-activations/offline-deactivate", body={"proof": machine_file}
    )
    assert as_proof.status == 422 and as_proof.json["code"] == "WRONG_TOKEN_TYPE"
    key_as_proof = invoke(
        "POST", "/license-activations/offline-deactivate", body={"proof": issued["keyToken"]}
    )
    assert key_as_proof.status == 422 and key_as_proof.json["code"] == "WRONG_TOKEN_TYPE"
    assert seats(issued["licenseId"]) == 1


# --- Borrowed seats ----------------------------------------------------------------


def test_a_borrowed_seat_counts_until_its_end_and_comes_back_on_return(
    offline_tier: Callable[..., str],
    license_of: Callable[[str], dict[str, Any]],
    machine_key: rsa.RSAPrivateKey,
    bits: Callable[[], None],
) -> None:
    issued = license_of(offline_tier(max_users=1))
    activated = activate(issued["keyToken"], "laptop", machine_key).json
    above = invoke("POST", "/license-activations/borrow",
                   body={"clientId": activated["clientId"], "seconds": 4 * DAY})  # fmt: skip
    assert above.status == 422 and above.json["code"] == "TTL_ABOVE_POLICY"
    borrowed = invoke("POST", "/license-activations/borrow",
                      body={"clientId": activated["clientId"], "seconds": 3 * DAY})  # fmt: skip
    assert borrowed.status == 200, borrowed.text
    claims = file_claims(borrowed.json, machine_key)
    assert claims["mode"] == "borrow" and claims["exp"] - claims["iat"] == 3 * DAY
    start = utcnow()
    try:
        set_clock(lambda: start + timedelta(days=2, hours=23))  # 71 h silent: still borrowed
        assert activate(issued["keyToken"], "desk").json["code"] == "SEAT_LIMIT_REACHED"
        set_clock(lambda: start + timedelta(days=5, hours=1))  # the borrow ended
        assert activate(issued["keyToken"], "desk").status == 201
    finally:
        set_clock(None)

    second = license_of(offline_tier(max_users=1))
    holder = activate(second["keyToken"], "laptop", machine_key).json
    file = file_claims(invoke("POST", "/license-activations/borrow",
                              body={"clientId": holder["clientId"], "seconds": DAY}).json, machine_key)  # fmt: skip
    proof = sdk.seat_proof(license_id=second["licenseId"], activation_id=file["activationId"],
                           key=machine_key, now=utcnow().timestamp(), typ=sdk.RETURN_PROOF_TYP)  # fmt: skip
    returned = invoke("POST", "/license-activations/return", body={"proof": proof})
    assert returned.status == 200 and returned.json == {"deactivated": True}
    assert activate(second["keyToken"], "desk").status == 201
    bits()
    entry = file["status"]["status_list"]
    assert status_bit(entry["uri"], entry["idx"]) is True


def test_borrowing_needs_a_machine_key_and_a_tier_that_lends(
    offline_tier: Callable[..., str], license_of: Callable[[str], dict[str, Any]]
) -> None:
    issued = license_of(offline_tier())
    keyless = activate(issued["keyToken"], "m").json
    refused = invoke(
        "POST",
        "/license-activations/borrow",
        body={"clientId": keyless["clientId"], "seconds": DAY},
    )
    assert refused.status == 422 and refused.json["code"] == "MACHINE_KEY_REQUIRED"
    no_lending = license_of(offline_tier(maxBorrowSeconds=0))
    keyed = activate(
        no_lending["keyToken"], "m", rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ).json
    refused = invoke(
        "POST", "/license-activations/borrow", body={"clientId": keyed["clientId"], "seconds": DAY}
    )
    assert refused.status == 403 and refused.json["code"] == "OFFLINE_NOT_ALLOWED"
