"""JOSE attacks on license keys, over HTTP: ``POST /license-keys/validate`` answers
``200 {valid: false, code}`` and ``POST /license-activations/activate`` a 403 problem with
the same code; neither leaks a token or claims, and nothing is written.

Tokens that need a valid signature are signed with the server's own key (the PEM in its
data directory) so that each case isolates one check.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwcrypto import jwe, jwk

from tests.e2e.client import Reply
from tests.security.conftest import Trap
from tests.security.support import (
    LEEWAY,
    Api,
    Json,
    License,
    World,
    assert_invalid_key,
    assert_problem,
    b64url,
    claims_of,
    forge,
    new_rsa_key,
    now,
    segment,
)

pytestmark = pytest.mark.e2e

MAX_TOKEN_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
VALIDATE = ("POST", "/license-keys/validate")
ACTIVATE = ("POST", "/license-activations/activate")


@dataclass(frozen=True)
class Forge:
    """What the attacker has (a real key token, the public key, other real tokens) and,
    for claim checks, the server's own signing key."""

    kid: str
    key: rsa.RSAPrivateKey
    license: License
    header: Json
    claims: Json
    machine_token: str
    admin_token: str
    trap: str

    def sign(
        self,
        *,
        header: Json | None = None,
        claims: Json | None = None,
        drop_header: tuple[str, ...] = (),
        drop_claims: tuple[str, ...] = (),
        key: rsa.RSAPrivateKey | None = None,
    ) -> str:
        """The real key token's header and claims with changes, signed RS256 (by the
        server's key unless ``key`` says otherwise)."""
        full_header = {**self.header, **(header or {})}
        full_claims = {**self.claims, **(claims or {})}
        for name in drop_header:
            full_header.pop(name, None)
        for name in drop_claims:
            full_claims.pop(name, None)
        return forge(full_header, full_claims, key=key or self.key)

    @property
    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def public_jwk(self) -> Json:
        exported: Json = jwk.JWK.from_pyca(self.key.public_key()).export_public(as_dict=True)
        return exported

    def signing_input(self) -> str:
        return ".".join(self.license.key_token.split(".")[:2])

    def signature(self) -> str:
        return self.license.key_token.split(".")[2]


@pytest.fixture(scope="module")
def forger(world: World, signing_key: tuple[str, rsa.RSAPrivateKey], trap: Trap, api: Api) -> Forge:
    kid, key = signing_key
    target = world.license()
    machine = world.activate(world.license())
    assert machine["tokenType"] == "jws"
    return Forge(
        kid=kid,
        key=key,
        license=target,
        header=json.loads(json.dumps({"alg": "RS256", "kid": kid, "typ": "license+jwt"})),
        claims=claims_of(target.key_token),
        machine_token=machine["token"],
        admin_token=api.server.admin_token,
        trap=trap.url,
    )


def _jwe(plaintext: bytes, protected: Json, key: rsa.RSAPrivateKey) -> str:
    token = jwe.JWE(
        plaintext,
        json.dumps(protected),
        algs=["RSA-OAEP", "RSA1_5", "A256CBC-HS512", "A128CBC-HS256"],
    )
    token.add_recipient(jwk.JWK.from_pyca(key.public_key()))
    return str(token.serialize(compact=True))


def _bomb(f: Forge) -> str:
    """A JWE whose DEFLATE payload inflates to 10 MB (it fits in the 16 KiB token bound)."""
    zeros = b"0" * (10 * 1024 * 1024)
    assert len(zlib.compress(zeros, 9)) < 12_000
    token = _jwe(zeros, {"alg": "RSA-OAEP", "enc": "A256CBC-HS512", "zip": "DEF"}, f.key)
    assert len(token) < MAX_TOKEN_BYTES
    return token


def _json_serialization(f: Forge, *, flattened: bool) -> str:
    protected, payload, signature = f.license.key_token.split(".")
    if flattened:
        return json.dumps({"payload": payload, "protected": protected, "signature": signature})
    return json.dumps(
        {"payload": payload, "signatures": [{"protected": protected, "signature": signature}]}
    )


def _attacker_jwk_header(f: Forge, attacker: rsa.RSAPrivateKey, kid: str) -> str:
    public = jwk.JWK.from_pyca(attacker.public_key()).export_public(as_dict=True)
    return f.sign(header={"kid": kid, "jwk": public}, key=attacker)


def _pss(f: Forge) -> str:
    signing_input = f"{segment({**f.header, 'alg': 'PS256'})}.{segment(f.claims)}"
    signature = f.key.sign(
        signing_input.encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )
    return f"{signing_input}.{b64url(signature)}"


def _tampered(f: Forge) -> str:
    """The real key's signature over claims raised to enterprise-grade limits."""
    claims = {**f.claims, "limits": {**f.claims["limits"], "maxUsers": 10_000}}
    return f"{segment(f.header)}.{segment(claims)}.{f.signature()}"


Build = Callable[[Forge], str]


@dataclass(frozen=True)
class Attack:
    name: str
    build: Build
    codes: tuple[str, ...]


def attack(name: str, build: Build, *codes: str) -> Attack:
    return Attack(name, build, codes)


SIG = "SIGNATURE_INVALID"
MAL = "MALFORMED"
KID = "UNKNOWN_KEY_ID"
TYP = "WRONG_TOKEN_TYPE"

ATTACKS: list[Attack] = [
    # Algorithm confusion
    attack("alg-none", lambda f: forge({**f.header, "alg": "none"}, f.claims, signature=""), SIG),
    attack("alg-None", lambda f: forge({**f.header, "alg": "None"}, f.claims, signature=""), SIG),
    attack(
        "alg-none-real-signature",
        lambda f: (
            f"{segment({**f.header, 'alg': 'none'})}.{f.signing_input().split('.')[1]}."
            + f.signature()
        ),
        SIG,
    ),
    attack("alg-missing", lambda f: f.sign(drop_header=("alg",)), SIG),
    attack("alg-list", lambda f: f.sign(header={"alg": ["RS256"]}), SIG),
    attack(
        "hs256-with-public-pem",
        lambda f: forge({**f.header, "alg": "HS256"}, f.claims, hmac_secret=f.public_pem),
        SIG,
    ),
    attack(
        "hs256-with-public-jwk",
        lambda f: forge(
            {**f.header, "alg": "HS256"},
            f.claims,
            hmac_secret=json.dumps(f.public_jwk).encode(),
        ),
        SIG,
    ),
    attack("rs512-label-on-rs256", lambda f: f.sign(header={"alg": "RS512"}), SIG),
    attack("ps256-signed-by-our-key", _pss, SIG),
    attack("rsa1_5-as-jws-alg", lambda f: f.sign(header={"alg": "RSA1_5"}), SIG),
    # Signatures
    attack("payload-tampered", _tampered, SIG),
    attack("other-key-same-kid", lambda f: f.sign(key=new_rsa_key()), SIG),
    attack("signature-truncated", lambda f: f.license.key_token[:-10], SIG, MAL),
    attack("signature-empty", lambda f: f"{f.signing_input()}.", SIG, MAL),
    attack("signature-padded", lambda f: f"{f.license.key_token}==", MAL, SIG),
    # kid and header injection (signed by our key: only the header is wrong)
    attack("kid-path-traversal", lambda f: f.sign(header={"kid": "../../signing-key.pem"}), KID),
    attack("kid-etc-passwd", lambda f: f.sign(header={"kid": "../../../../../../etc/passwd"}), KID),
    attack("kid-dev-null", lambda f: f.sign(header={"kid": "/dev/null"}), KID),
    attack("kid-sql", lambda f: f.sign(header={"kid": "' OR '1'='1' --"}), KID),
    attack("kid-sql-drop", lambda f: f.sign(header={"kid": 'x"; DROP TABLE licenses; --'}), KID),
    attack("kid-nul", lambda f: f.sign(header={"kid": f.kid + "\u0000"}), KID),
    attack("kid-case", lambda f: f.sign(header={"kid": f.kid.swapcase()}), KID),
    attack("kid-empty", lambda f: f.sign(header={"kid": ""}), KID),
    attack("kid-missing", lambda f: f.sign(drop_header=("kid",)), KID),
    attack("kid-null", lambda f: f.sign(header={"kid": None}), KID),
    attack("kid-number", lambda f: f.sign(header={"kid": 1}), KID),
    attack("kid-list", lambda f: f.sign(header={"kid": [f.kid]}), KID),
    attack("kid-object", lambda f: f.sign(header={"kid": {"kid": f.kid}}), KID),
    attack("kid-huge", lambda f: f.sign(header={"kid": "k" * 10_000}), KID),
    attack("kid-over-token-bound", lambda f: f.sign(header={"kid": "k" * MAX_TOKEN_BYTES}), MAL),
    attack(
        "embedded-jwk-attacker-kid",
        lambda f: _attacker_jwk_header(f, new_rsa_key(), "attacker"),
        KID,
    ),
    attack("embedded-jwk-our-kid", lambda f: _attacker_jwk_header(f, new_rsa_key(), f.kid), SIG),
    attack(
        "jku-to-attacker",
        lambda f: f.sign(
            header={"kid": "attacker", "jku": f"{f.trap}/jwks.json"}, key=new_rsa_key()
        ),
        KID,
    ),
    attack(
        "x5u-to-attacker",
        lambda f: f.sign(
            header={"kid": "attacker", "x5u": f"{f.trap}/cert.pem"}, key=new_rsa_key()
        ),
        KID,
    ),
    attack("crit-b64", lambda f: f.sign(header={"crit": ["b64"], "b64": False}), MAL),
    attack("crit-unknown", lambda f: f.sign(header={"crit": ["exp"], "exp": 1}), MAL),
    # Token-type confusion
    attack("typ-activation", lambda f: f.sign(header={"typ": "activation+jwt"}), TYP),
    attack("typ-jwt", lambda f: f.sign(header={"typ": "JWT"}), TYP),
    attack("typ-missing", lambda f: f.sign(drop_header=("typ",)), TYP),
    attack("typ-null", lambda f: f.sign(header={"typ": None}), TYP),
    attack("real-machine-token", lambda f: f.machine_token, TYP),
    attack("real-admin-oidc-token", lambda f: f.admin_token, TYP),
    # JWE where a JWS is expected, JSON serializations
    attack(
        "jwe-of-the-real-key",
        lambda f: _jwe(
            f.license.key_token.encode(),
            {"alg": "RSA-OAEP", "enc": "A256CBC-HS512", "cty": "JWT"},
            f.key,
        ),
        MAL,
    ),
    attack(
        "jwe-rsa1_5",
        lambda f: _jwe(
            f.license.key_token.encode(), {"alg": "RSA1_5", "enc": "A128CBC-HS256"}, f.key
        ),
        MAL,
    ),
    attack("jwe-deflate-bomb", _bomb, MAL),
    attack("json-general", lambda f: _json_serialization(f, flattened=False), MAL),
    attack("json-flattened", lambda f: _json_serialization(f, flattened=True), MAL),
    # Shape
    attack("two-segments", lambda f: f.signing_input(), MAL),
    attack("four-segments", lambda f: f"{f.license.key_token}.x", MAL),
    attack(
        "header-not-json", lambda f: f"{b64url('nope')}.{f.signing_input().split('.')[1]}.x", MAL
    ),
    attack(
        "header-array",
        lambda f: forge(["RS256"], f.claims, signature=f.signature()),
        MAL,
    ),
    attack(
        "standard-base64-alphabet",
        lambda f: (
            f.license.key_token.replace("-", "+").replace("_", "/")
            if ("-" in f.license.key_token or "_" in f.license.key_token)
            else f.license.key_token + "+"
        ),
        MAL,
        SIG,
    ),
    attack("non-ascii", lambda f: f.license.key_token[:-4] + "éééé", MAL, SIG),
    attack("whitespace-inside", lambda f: f.license.key_token.replace(".", ". ", 1), MAL, SIG),
    attack("over-token-bound", lambda f: f.license.key_token + "A" * MAX_TOKEN_BYTES, MAL),
    # Claims (signed by our key)
    attack("exp-missing", lambda f: f.sign(drop_claims=("exp",)), MAL),
    attack("exp-string", lambda f: f.sign(claims={"exp": str(now() + 3600)}), MAL),
    attack("exp-null", lambda f: f.sign(claims={"exp": None}), MAL),
    attack("exp-true", lambda f: f.sign(claims={"exp": True}), MAL),
    attack("exp-just-past-leeway", lambda f: f.sign(claims={"exp": now() - LEEWAY - 1}), "EXPIRED"),
    attack("exp-long-past", lambda f: f.sign(claims={"exp": 1}), "EXPIRED"),
    attack("nbf-future", lambda f: f.sign(claims={"nbf": now() + LEEWAY + 60}), "NOT_YET_VALID"),
    attack("nbf-string", lambda f: f.sign(claims={"nbf": "0"}), MAL),
    attack("iat-string", lambda f: f.sign(claims={"iat": "yesterday"}), MAL),
    attack("iss-other", lambda f: f.sign(claims={"iss": "https://evil.example"}), "WRONG_ISSUER"),
    attack("iss-missing", lambda f: f.sign(drop_claims=("iss",)), "WRONG_ISSUER"),
    attack("sub-missing", lambda f: f.sign(drop_claims=("sub",)), MAL),
    attack("sub-number", lambda f: f.sign(claims={"sub": 1}), MAL),
    attack(
        "sub-unknown-license",
        lambda f: f.sign(claims={"sub": "lic_000000000000000000000000"}),
        "NOT_FOUND",
    ),
    attack("gen-missing", lambda f: f.sign(drop_claims=("gen",)), MAL),
    attack("gen-string", lambda f: f.sign(claims={"gen": "1"}), MAL),
    attack("gen-superseded", lambda f: f.sign(claims={"gen": 0}), "SUPERSEDED"),
    attack("customer-missing", lambda f: f.sign(drop_claims=("customer",)), MAL),
    attack(
        "aud-other-product", lambda f: f.sign(claims={"aud": "Other.Product"}), "WRONG_AUDIENCE"
    ),
    attack("aud-list", lambda f: f.sign(claims={"aud": [f.claims["aud"], "x"]}), "WRONG_AUDIENCE"),
    attack("claims-array", lambda f: forge(f.header, [f.claims], key=f.key), MAL),
    attack("claims-not-json", lambda f: f"{segment(f.header)}.{b64url('{')}.x", SIG, MAL),
]


def _validate(api: Api, token: str) -> Reply:
    return api.anon("POST", "/license-keys/validate", {"keyToken": token})


def _activate(api: Api, token: str) -> Reply:
    return api.anon(
        "POST",
        "/license-activations/activate",
        {"keyToken": token, "machineId": "attacker-machine"},
    )


def test_the_forger_signs_what_the_server_accepts(api: Api, forger: Forge) -> None:
    """Control: re-signed unchanged, the key is valid, so each attack isolates its change."""
    for token in (forger.license.key_token, forger.sign()):
        reply = _validate(api, token)
        assert reply.status == 200 and reply.body["valid"] is True, reply.body
        assert reply.body["licenseId"] == forger.license.license_id


@pytest.mark.parametrize("case", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_is_refused_by_validate_and_activate(
    case: Attack, api: Api, forger: Forge, trap: Trap
) -> None:
    token = case.build(forger)
    hits = len(trap.hits)
    started = time.monotonic()
    with api.dynamo.unchanged(VALIDATE, ACTIVATE):
        validated = _validate(api, token)
        activated = _activate(api, token)
    assert time.monotonic() - started < 5, "refusing a token must be cheap"
    assert_invalid_key(validated, case.codes, token=token)
    assert_problem(activated, 403, case.codes, secrets=[token, forger.license.key_token])
    assert len(trap.hits) == hits, f"the service fetched {trap.hits[hits:]}"


@pytest.mark.parametrize("route", ["/license-keys/validate", "/license-activations/activate"])
def test_a_token_over_the_body_bound_is_413(api: Api, forger: Forge, route: str) -> None:
    token = forger.license.key_token + "A" * MAX_BODY_BYTES
    with api.dynamo.unchanged(("POST", route)):
        reply = api.anon("POST", route, {"keyToken": token, "machineId": "m"})
    assert_problem(reply, 413, "PAYLOAD_TOO_LARGE", secrets=[token])


def test_leeway_edges(api: Api, forger: Forge) -> None:
    """``exp`` is honoured up to the 30 s leeway, not one second more."""
    with api.dynamo.unchanged(VALIDATE):
        t = now()
        inside = forger.sign(claims={"exp": t - LEEWAY + 1})
        reply = _validate(api, inside)
        outside = forger.sign(claims={"exp": t - LEEWAY - 1})
        refused = _validate(api, outside)
    assert reply.body["valid"] is True, reply.body
    assert_invalid_key(refused, "EXPIRED", token=outside)
    early = forger.sign(claims={"nbf": now() + LEEWAY - 5})
    assert _validate(api, early).body["valid"] is True


def test_a_valid_key_for_another_product_is_refused_at_activation(api: Api, forger: Forge) -> None:
    with api.dynamo.unchanged(ACTIVATE):
        reply = api.anon(
            "POST",
            "/license-activations/activate",
            {
                "keyToken": forger.license.key_token,
                "machineId": "m",
                "product": "Another.Product",
            },
        )
    assert_problem(reply, 403, "WRONG_AUDIENCE", secrets=[forger.license.key_token])


def test_a_license_key_is_not_a_client_id(api: Api, forger: Forge) -> None:
    for route in ("/license-keys/heartbeat", "/license-activations/deactivate"):
        with api.dynamo.unchanged(("POST", route)):
            reply = api.anon("POST", route, {"clientId": forger.license.key_token[:512]})
        if route.endswith("heartbeat"):
            assert_problem(reply, 404, "UNKNOWN_CLIENT", secrets=[forger.license.key_token])
        else:
            assert reply.status == 200 and reply.body == {"deactivated": False}, reply.body
