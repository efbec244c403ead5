"""License keys end to end through the handlers: issue, validate, lifecycle, audit."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt as pyjwt
import pytest
from jwcrypto import jwk, jws
from licensing_core.domain.ids import set_clock
from licensing_core.jose import b64url_encode
from licensing_core.store.models import AuditRecord, CustomerRecord, LicenseRecord
from licensing_core.tokens.jwe import encrypt_to
from licensing_core.tokens.jws import sign_compact
from licensing_core.tokens.signer import get_signer

from tests.support import Response, invoke

Admin = Callable[..., Response]


@pytest.fixture
def customer(admin: Admin) -> str:
    created = admin("POST", "/customers", {"email": "ada@example.com", "name": "Ada"})
    assert created.status == 201, created.text
    return str(created.json["customerId"])


@pytest.fixture
def issue(
    admin: Admin, product: str, tiers: dict[str, str], customer: str
) -> Callable[..., Response]:
    def make(tier: str = "enterprise", **overrides: Any) -> Response:
        body = {
            "productId": product,
            "tierId": tiers[tier],
            "customerId": customer,
            "perpetual": True,
            **overrides,
        }
        return admin("POST", "/license-keys", {k: v for k, v in body.items() if v is not None})

    return make


def validate(token: str) -> dict[str, Any]:
    response = invoke("POST", "/license-keys/validate", body={"keyToken": token})
    assert response.status == 200, response.text
    result: dict[str, Any] = response.json
    if not result["valid"]:
        assert result["claims"] is None  # a rejected token never returns claims
    return result


def decode_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
    )


def test_issued_key_verifies_with_a_foreign_verifier_and_carries_the_claims(
    issue: Callable[..., Response], tiers: dict[str, str], customer: str
) -> None:
    issued = issue()
    assert issued.status == 201, issued.text
    token = issued.json["keyToken"]
    header, _ = decode_parts(token)
    assert header == {"alg": "RS256", "kid": get_signer().current.kid, "typ": "license+jwt"}
    keys = invoke("GET", "/.well-known/jwks.json").json["keys"]
    key = pyjwt.PyJWKSet.from_dict({"keys": keys})[header["kid"]]
    claims = pyjwt.decode(
        token,
        key=key,
        algorithms=["RS256"],
        audience="Rdn.Identity",
        issuer="https://licensing.test",
    )
    assert claims["sub"] == issued.json["licenseId"]
    assert claims["tier"] == "enterprise" and claims["customer"] == customer
    assert claims["features"] == ["audit_log", "multi_tenant", "passkeys", "sso"]  # no display-only
    assert claims["limits"] == {"maxUsers": 50, "maxTenants": 1, "quotas": {}}
    assert claims["heartbeat"] == {"intervalSeconds": 3600, "ttlSeconds": 172800}
    assert claims["stepUp"] == {"audit_log": {"acr": "mfa", "maxAge": 300}}
    assert claims["exp"] - claims["iat"] >= 99 * 365 * 86400  # perpetual = 100 years
    result = validate(token)
    assert (result["valid"], result["code"]) == (True, "VALID")
    assert result["claims"] == claims


def test_a_dated_license_expires(issue: Callable[..., Response]) -> None:
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    issued = issue("pro", perpetual=None, expiresAt=expires.isoformat())
    assert issued.status == 201, issued.text
    _, claims = decode_parts(issued.json["keyToken"])
    assert claims["exp"] == int(expires.timestamp())
    set_clock(lambda: expires + timedelta(seconds=60))
    assert validate(issued.json["keyToken"])["code"] == "EXPIRED"


def our_token(**claims: Any) -> str:
    return sign_compact(claims, typ="license+jwt", signer=get_signer())


def tamper_payload(token: str) -> str:
    header, _, signature = token.split(".")
    claims = decode_parts(token)[1] | {"tier": "enterprise", "features": ["everything"]}
    return f"{header}.{b64url_encode(json.dumps(claims).encode())}.{signature}"


def tamper_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = "A" if signature[10] != "A" else "B"
    return f"{header}.{payload}.{signature[:10]}{flipped}{signature[11:]}"


def with_header(token: str, **header: Any) -> str:
    _, payload, signature = token.split(".")
    head = decode_parts(token)[0] | header
    return f"{b64url_encode(json.dumps(head).encode())}.{payload}.{signature}"


def foreign_signed(token: str, **header: Any) -> str:
    """The same claims signed by an attacker's key, with attacker-chosen headers."""
    attacker = jwk.JWK.generate(kty="RSA", size=2048)
    signed = jws.JWS(json.dumps(decode_parts(token)[1]).encode())
    signed.add_signature(
        attacker, protected=json.dumps({"alg": "RS256", "typ": "license+jwt", **header})
    )
    return str(signed.serialize(compact=True))


def hs256_confusion(token: str) -> str:
    secret = get_signer().current.to_jwk()["n"].encode()
    return pyjwt.encode(
        decode_parts(token)[1],
        secret,
        algorithm="HS256",
        headers={"kid": get_signer().current.kid, "typ": "license+jwt"},
    )


BAD_KEYS: list[tuple[str, Callable[[str], str], str]] = [
    ("tampered payload", tamper_payload, "SIGNATURE_INVALID"),
    ("tampered signature", tamper_signature, "SIGNATURE_INVALID"),
    ("alg none", lambda t: with_header(t, alg="none").rsplit(".", 1)[0] + ".", "SIGNATURE_INVALID"),
    ("HS256 with the public key as secret", hs256_confusion, "SIGNATURE_INVALID"),
    ("unknown kid", lambda t: with_header(t, kid="someone-else"), "UNKNOWN_KEY_ID"),
    (
        "jku header",
        lambda t: foreign_signed(t, jku="https://evil.test/jwks", kid="evil"),
        "UNKNOWN_KEY_ID",
    ),
    (
        "x5u header",
        lambda t: foreign_signed(t, x5u="https://evil.test/cert", kid="evil"),
        "UNKNOWN_KEY_ID",
    ),
    (
        "embedded jwk, our kid",
        lambda t: foreign_signed(
            t,
            kid=get_signer().current.kid,
            jwk=jwk.JWK.generate(kty="RSA", size=2048).export_public(as_dict=True),
        ),
        "SIGNATURE_INVALID",
    ),
    ("crit header", lambda t: with_header(t, crit=["exp"]), "MALFORMED"),
    (
        "activation token as a key",
        lambda t: with_header(t, typ="activation+jwt"),
        "WRONG_TOKEN_TYPE",
    ),
    ("no typ", lambda t: with_header(t, typ=None), "WRONG_TOKEN_TYPE"),
    ("JWE where a JWS is expected", lambda t: "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", "MALFORMED"),
    ("garbage", lambda t: "not base64 at all!", "MALFORMED"),
    ("non-base64 segments", lambda t: "@@@.###.$$$", "MALFORMED"),
    ("20 KB token", lambda t: t + "A" * 20_000, "MALFORMED"),
    (
        "missing exp",
        lambda t: our_token(**{k: v for k, v in decode_parts(t)[1].items() if k != "exp"}),
        "MALFORMED",
    ),
    ("string exp", lambda t: our_token(**decode_parts(t)[1] | {"exp": "2999-01-01"}), "MALFORMED"),
    (
        "expired",
        lambda t: our_token(**decode_parts(t)[1] | {"exp": int(time.time()) - 3600}),
        "EXPIRED",
    ),
    (
        "nbf in the future",
        lambda t: our_token(**decode_parts(t)[1] | {"nbf": int(time.time()) + 3600}),
        "NOT_YET_VALID",
    ),
    (
        "wrong audience",
        lambda t: our_token(**decode_parts(t)[1] | {"aud": "Other.Product"}),
        "WRONG_AUDIENCE",
    ),
    (
        "wrong issuer",
        lambda t: our_token(**decode_parts(t)[1] | {"iss": "https://evil.test"}),
        "WRONG_ISSUER",
    ),
    (
        "unknown license",
        lambda t: our_token(**decode_parts(t)[1] | {"sub": "lic_forged"}),
        "NOT_FOUND",
    ),
]


@pytest.mark.parametrize(("name", "make", "code"), BAD_KEYS, ids=[b[0] for b in BAD_KEYS])
def test_bad_keys_get_the_right_code_and_no_claims(
    issue: Callable[..., Response], name: str, make: Callable[[str], str], code: str
) -> None:
    token = issue().json["keyToken"]
    result = validate(make(token))
    assert (result["valid"], result["code"], result["claims"]) == (False, code, None), name


def test_a_megabyte_token_is_refused_at_the_door(aws: object) -> None:
    response = invoke("POST", "/license-keys/validate", body={"keyToken": "A" * 1_000_000})
    assert (response.status, response.json["code"]) == (413, "PAYLOAD_TOO_LARGE")


def test_revocation_is_immediate_idempotent_and_audited(
    admin: Admin, issue: Callable[..., Response]
) -> None:
    issued = issue().json
    license_id, token = issued["licenseId"], issued["keyToken"]
    first = admin("POST", f"/license-keys/{license_id}/revoke", {"reason": "chargeback"})
    assert first.status == 200 and first.json["status"] == "revoked"
    assert validate(token)["code"] == "REVOKED"
    again = admin("POST", f"/license-keys/{license_id}/revoke", {"reason": "second thoughts"})
    assert again.json["statusNote"] == first.json["statusNote"]  # the first record stands
    assert again.json["statusNote"]["reason"] == "chargeback"
    assert (
        admin("POST", f"/license-keys/{license_id}/regenerate", {}).json["code"]
        == "LICENSE_NOT_ACTIVE"
    )
    history = admin("GET", f"/license-keys/{license_id}/history").json["items"]
    assert [h["action"] for h in history] == ["license.revoked", "license.issued"]
    assert history[0]["reason"] == "chargeback" and history[0]["actor"]


def test_suspend_and_reinstate(admin: Admin, issue: Callable[..., Response]) -> None:
    issued = issue().json
    path = f"/license-keys/{issued['licenseId']}"
    assert admin("POST", f"{path}/suspend", {"reason": "unpaid"}).json["status"] == "suspended"
    assert validate(issued["keyToken"])["code"] == "SUSPENDED"
    assert admin("POST", f"{path}/reinstate", {}).json["status"] == "active"
    assert validate(issued["keyToken"])["valid"] is True
    admin("POST", f"{path}/revoke", {"reason": "fraud"})
    refused = admin("POST", f"{path}/reinstate", {})
    assert (refused.status, refused.json["code"]) == (409, "LICENSE_NOT_ACTIVE")


def test_renew_extends_and_returns_a_fresh_key(
    admin: Admin, issue: Callable[..., Response]
) -> None:
    soon = datetime.now(UTC) + timedelta(days=10)
    issued = issue(perpetual=None, expiresAt=soon.isoformat()).json
    later = (soon + timedelta(days=365)).replace(microsecond=0)
    renewed = admin(
        "POST", f"/license-keys/{issued['licenseId']}/renew", {"expiresAt": later.isoformat()}
    )
    assert renewed.status == 200, renewed.text
    assert decode_parts(renewed.json["keyToken"])[1]["exp"] == int(later.timestamp())
    assert validate(renewed.json["keyToken"])["valid"] and validate(issued["keyToken"])["valid"]
    shorter = admin(
        "POST", f"/license-keys/{issued['licenseId']}/renew", {"expiresAt": soon.isoformat()}
    )
    assert (shorter.status, shorter.json["code"]) == (422, "EXPIRY_NOT_LATER")
    perpetual = issue().json
    refused = admin(
        "POST", f"/license-keys/{perpetual['licenseId']}/renew", {"expiresAt": later.isoformat()}
    )
    assert refused.json["code"] == "LICENSE_PERPETUAL"


def test_regenerate_keeps_or_supersedes_the_old_key(
    admin: Admin, issue: Callable[..., Response]
) -> None:
    issued = issue().json
    path = f"/license-keys/{issued['licenseId']}/regenerate"
    second = admin("POST", path, {})
    assert second.status == 200 and second.json["licenseId"] == issued["licenseId"]
    assert validate(issued["keyToken"])["valid"] and validate(second.json["keyToken"])["valid"]
    third = admin("POST", path, {"revokePrevious": True}).json
    assert validate(issued["keyToken"])["code"] == "SUPERSEDED"
    assert validate(second.json["keyToken"])["code"] == "SUPERSEDED"
    assert validate(third["keyToken"])["valid"]


def test_audit_reports_drift_after_a_tier_change_until_regenerated(
    admin: Admin, issue: Callable[..., Response], product: str, tiers: dict[str, str]
) -> None:
    issued = issue("pro").json
    audit_path = f"/license-keys/{issued['licenseId']}/audit"
    assert admin("POST", audit_path).json == {"status": "consistent", "differences": []}
    admin(
        "PATCH",
        f"/products/{product}/tiers/{tiers['pro']}",
        {"features": ["passkeys", "multi_tenant", "audit_log"]},
    )
    drift = admin("POST", audit_path).json
    assert drift["status"] == "drift"
    assert drift["differences"] == [
        {
            "claim": "features",
            "inToken": ["multi_tenant", "passkeys", "sso"],
            "expected": ["audit_log", "multi_tenant", "passkeys", "sso"],
        }
    ]
    regenerated = admin("POST", f"/license-keys/{issued['licenseId']}/regenerate", {}).json
    assert admin("POST", audit_path).json["status"] == "consistent"
    explicit = admin("POST", audit_path, {"token": issued["keyToken"]}).json
    assert explicit["status"] == "drift"  # the old key still says the old features
    assert (
        admin("POST", audit_path, {"token": regenerated["keyToken"]}).json["status"] == "consistent"
    )
    machine = jwk.JWK.generate(kty="RSA", size=2048).export_public(as_dict=True)
    sealed = encrypt_to(regenerated["keyToken"], machine)
    assert admin("POST", audit_path, {"token": sealed}).json["status"] == "encrypted"
    assert admin("POST", audit_path, {"token": "h.e.a.d.er"}).json["code"] == "MALFORMED"
    admin("POST", f"/license-keys/{issued['licenseId']}/suspend", {"reason": "x"})
    suspended = admin("POST", audit_path).json
    assert suspended["differences"] == [
        {"claim": "status", "inToken": "active", "expected": "suspended"}
    ]


def test_a_deactivated_identity_fails_validation(
    issue: Callable[..., Response], customer: str
) -> None:
    token = issue().json["keyToken"]
    CustomerRecord.get(customer).update(actions=[CustomerRecord.status.set("deactivated")])
    assert validate(token)["code"] == "IDENTITY_DEACTIVATED"


def stored() -> tuple[int, int]:
    return LicenseRecord.count(), AuditRecord.count()


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"productId": "prd_missing"}, 422, "PRODUCT_NOT_FOUND"),
        ({"tierId": "tier_missing"}, 422, "TIER_NOT_FOUND"),
        ({"customerId": "cus_missing"}, 422, "CUSTOMER_NOT_FOUND"),
        ({"perpetual": None}, 422, "VALIDATION_FAILED"),
        ({"expiresAt": "2999-01-01T00:00:00Z"}, 422, "VALIDATION_FAILED"),
        ({"perpetual": None, "expiresAt": "2001-01-01T00:00:00Z"}, 422, "EXPIRY_IN_PAST"),
        ({"perpetual": None, "expiresAt": "2001-01-01T00:00:00"}, 422, "VALIDATION_FAILED"),
        ({"perpetual": None, "expiresAt": "3999-01-01T00:00:00Z"}, 422, "EXPIRY_TOO_FAR"),
        ({"licenseId": "lic_mine"}, 422, "VALIDATION_FAILED"),
        ({"status": "active"}, 422, "VALIDATION_FAILED"),
    ],
)
def test_bad_issue_requests_write_nothing(
    issue: Callable[..., Response], overrides: dict[str, Any], status: int, code: str
) -> None:
    before = stored()
    response = issue(**overrides)
    assert (response.status, response.json["code"]) == (status, code), response.text
    assert stored() == before


def test_a_tier_of_another_product_is_refused(admin: Admin, issue: Callable[..., Response]) -> None:
    other = admin("POST", "/products", {"code": "Other", "name": "Other"}).json["productId"]
    before = stored()
    response = issue(productId=other)
    assert (response.status, response.json["code"]) == (422, "TIER_NOT_FOUND")
    assert stored() == before


def test_listing_a_customers_licenses(
    admin: Admin, issue: Callable[..., Response], customer: str
) -> None:
    ids = {issue().json["licenseId"], issue("free").json["licenseId"]}
    listed = admin("GET", f"/customers/{customer}/license-keys").json["items"]
    assert {item["licenseId"] for item in listed} == ids
    assert admin("GET", "/customers/cus_missing/license-keys").status == 404
    one = admin("GET", f"/license-keys/{next(iter(ids))}").json
    assert one["status"] == "active" and one["activeSeats"] == 0


def test_lifecycle_routes_need_an_admin(issue: Callable[..., Response], user_token: str) -> None:
    license_id = issue().json["licenseId"]
    for path, body in [
        ("revoke", {"reason": "x"}),
        ("suspend", {"reason": "x"}),
        ("regenerate", {}),
        ("audit", {}),
    ]:
        response = invoke("POST", f"/license-keys/{license_id}/{path}", body=body, token=user_token)
        assert (response.status, response.json["code"]) == (403, "NOT_AN_ADMIN")
    assert LicenseRecord.get(license_id).status == "active"
