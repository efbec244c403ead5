"""JOSE attacks on admin bearer tokens (OIDC, Amazon Cognito by default), over HTTP.

Tokens that need a valid signature are signed with the key moto's Cognito signs with (it
ships in the moto package), so each case isolates one claim or header check. Every
refusal is a 401 problem with an RFC 6750 challenge (403 ``NOT_AN_ADMIN`` for a verified
caller outside the admin group), echoes no token, and writes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwe, jwk
from licensing_core.identity import stepup
from licensing_core.routes import ROUTES, Route

from tests.e2e.client import call
from tests.security.conftest import Trap
from tests.security.examples import Target, example
from tests.security.support import (
    LEEWAY,
    Api,
    Json,
    World,
    assert_problem,
    b64url,
    claims_of,
    forge,
    moto_cognito_key,
    new_rsa_key,
    now,
)

pytestmark = pytest.mark.e2e

CREATE = ("POST", "/products")


@dataclass(frozen=True)
class Idp:
    """The identity provider as an attacker sees it (public JWKS) and, for claim checks,
    as the test drives it (its private key)."""

    kid: str
    key: rsa.RSAPrivateKey
    jwks_entry: Json
    claims: Json
    license_key: str
    machine_token: str
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
        full_header: Json = {"alg": "RS256", "kid": self.kid, "typ": "JWT", **(header or {})}
        full_claims: Json = {**self.claims, "iat": now(), "exp": now() + 600, **(claims or {})}
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


@pytest.fixture(scope="module")
def idp(api: Api, world: World, trap: Trap) -> Idp:
    state = api.server.state()
    jwks = call("GET", f"{state['aws_endpoint']}/{state['user_pool_id']}/.well-known/jwks.json")
    kid, key = moto_cognito_key()
    entry = next(k for k in jwks.body["keys"] if k["kid"] == kid)
    assert jwk.JWK(**entry).thumbprint() == jwk.JWK.from_pyca(key.public_key()).thumbprint()
    claims = claims_of(api.server.admin_token)
    assert claims["iss"] == state["oidc_issuer"] and "license-admins" in claims["cognito:groups"]
    license = world.license()
    machine = world.activate(world.license())
    return Idp(kid, key, entry, claims, license.key_token, machine["token"], trap.url)


def _jwe(idp: Idp) -> str:
    token = jwe.JWE(
        idp.sign().encode(), json.dumps({"alg": "RSA-OAEP", "enc": "A256CBC-HS512", "cty": "JWT"})
    )
    token.add_recipient(jwk.JWK.from_pyca(idp.key.public_key()))
    return str(token.serialize(compact=True))


def _flattened(idp: Idp) -> str:
    protected, payload, signature = idp.sign().split(".")
    return json.dumps({"protected": protected, "payload": payload, "signature": signature})


@dataclass(frozen=True)
class Attack:
    name: str
    build: Callable[[Idp], str]
    status: int = 401
    code: str = "INVALID_TOKEN"
    scheme: str = "Bearer"


ATTACKS: list[Attack] = [
    # Algorithm confusion
    Attack(
        "alg-none",
        lambda i: forge(
            {"alg": "none", "kid": i.kid}, {**i.claims, "exp": now() + 600}, signature=""
        ),
    ),
    Attack(
        "hs256-with-cognito-public-pem",
        lambda i: forge(
            {"alg": "HS256", "kid": i.kid},
            {**i.claims, "exp": now() + 600},
            hmac_secret=i.public_pem,
        ),
    ),
    Attack(
        "hs256-with-cognito-jwk",
        lambda i: forge(
            {"alg": "HS256", "kid": i.kid},
            {**i.claims, "exp": now() + 600},
            hmac_secret=json.dumps(i.jwks_entry).encode(),
        ),
    ),
    Attack("rs512-label", lambda i: i.sign(header={"alg": "RS512"})),
    Attack("alg-missing", lambda i: i.sign(drop_header=("alg",))),
    Attack("forged-signature", lambda i: i.sign(key=new_rsa_key())),
    # kid and header injection
    Attack("kid-unknown", lambda i: i.sign(header={"kid": "attacker"}, key=new_rsa_key())),
    Attack("kid-path-traversal", lambda i: i.sign(header={"kid": "../../../etc/passwd"})),
    Attack("kid-sql", lambda i: i.sign(header={"kid": "dummy' OR '1'='1"})),
    Attack("kid-huge", lambda i: i.sign(header={"kid": "k" * 10_000})),
    Attack("kid-missing", lambda i: i.sign(drop_header=("kid",))),
    Attack("kid-number", lambda i: i.sign(header={"kid": 7})),
    Attack(
        "jku-to-attacker",
        lambda i: i.sign(header={"kid": "attacker", "jku": f"{i.trap}/jwks"}, key=new_rsa_key()),
    ),
    Attack(
        "x5u-to-attacker",
        lambda i: i.sign(header={"kid": "attacker", "x5u": f"{i.trap}/x5u"}, key=new_rsa_key()),
    ),
    Attack(
        "embedded-jwk",
        lambda i: (
            lambda attacker: i.sign(
                header={
                    "jwk": jwk.JWK.from_pyca(attacker.public_key()).export_public(as_dict=True)
                },
                key=attacker,
            )
        )(new_rsa_key()),
    ),
    # Claims (signed by the identity provider's key)
    Attack("iss-other", lambda i: i.sign(claims={"iss": "https://evil.example/pool"})),
    Attack("iss-missing", lambda i: i.sign(drop_claims=("iss",))),
    Attack("exp-missing", lambda i: i.sign(drop_claims=("exp",))),
    Attack("exp-string", lambda i: i.sign(claims={"exp": str(now() + 600)})),
    Attack("exp-past-leeway", lambda i: i.sign(claims={"exp": now() - LEEWAY - 1})),
    Attack("nbf-future", lambda i: i.sign(claims={"nbf": now() + LEEWAY + 60})),
    Attack("client-id-other", lambda i: i.sign(claims={"client_id": "another-app"})),
    Attack(
        "aud-other-id-token",
        lambda i: i.sign(
            claims={"aud": "another-app", "token_use": "id"}, drop_claims=("client_id",)
        ),
    ),
    Attack("token-use-refresh", lambda i: i.sign(claims={"token_use": "refresh"})),
    Attack("sub-missing", lambda i: i.sign(drop_claims=("sub",))),
    Attack("sub-empty", lambda i: i.sign(claims={"sub": ""})),
    # Verified, but not an administrator
    Attack(
        "groups-as-a-string",
        lambda i: i.sign(claims={"cognito:groups": "license-admins"}),
        403,
        "NOT_AN_ADMIN",
    ),
    Attack(
        "groups-lookalike",
        lambda i: i.sign(claims={"cognito:groups": ["license-admins ", "License-Admins"]}),
        403,
        "NOT_AN_ADMIN",
    ),
    Attack("no-groups", lambda i: i.sign(drop_claims=("cognito:groups",)), 403, "NOT_AN_ADMIN"),
    # Other tokens and shapes
    Attack("license-key-as-bearer", lambda i: i.license_key),
    Attack("machine-token-as-bearer", lambda i: i.machine_token),
    Attack("jwe-of-a-valid-token", _jwe),
    Attack("json-flattened", _flattened),
    Attack("four-segments", lambda i: i.sign() + ".x"),
    Attack("over-token-bound", lambda i: i.sign(claims={"pad": "x" * 17_000})),
    Attack("basic-scheme", lambda i: b64url("admin:admin"), scheme="Basic"),
    Attack("token-without-scheme", lambda i: i.sign(), scheme=""),
]


def _headers(attack: Attack, token: str) -> dict[str, str]:
    value = f"{attack.scheme} {token}".strip()
    return {"Authorization": value}


def test_the_identity_provider_key_signs_what_the_server_accepts(api: Api, idp: Idp) -> None:
    """Control: the same claims, freshly signed, are an administrator's; so is a token
    that expired less than the leeway ago."""
    for token in (idp.sign(), idp.sign(claims={"exp": now() - LEEWAY + 2})):
        reply = api.anon("GET", "/products?limit=1", headers={"Authorization": f"Bearer {token}"})
        assert reply.status == 200, reply.body


@pytest.mark.parametrize("case", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_is_refused_on_admin_routes(case: Attack, api: Api, idp: Idp, trap: Trap) -> None:
    token = case.build(idp)
    hits = len(trap.hits)
    body: Any = {"code": f"Pwn.{uuid.uuid4().hex[:8]}", "name": "pwned"}
    with api.dynamo.unchanged(CREATE):
        read = api.anon("GET", "/products", headers=_headers(case, token))
        write = api.anon("POST", "/products", body, headers=_headers(case, token))
    for reply in (read, write):
        assert_problem(reply, case.status, case.code, secrets=[token])
        if case.status == 401:
            challenge = reply.headers.get("www-authenticate", "")
            assert challenge.startswith("Bearer "), reply.headers
            assert token not in challenge
    assert len(trap.hits) == hits, f"the service fetched {trap.hits[hits:]}"


def test_no_authorization_header_is_a_plain_challenge(api: Api) -> None:
    with api.dynamo.unchanged(CREATE):
        reply = api.anon("POST", "/products", {"code": "Pwn.none", "name": "pwned"})
    assert_problem(reply, 401, "MISSING_TOKEN")
    assert reply.headers["www-authenticate"] == 'Bearer realm="licensing"'


# --- Step-up (RFC 9470) on the routes the policy names ------------------------------

STEP_UP_ROUTES = [
    route
    for route in ROUTES
    if route.step_up
    and (rule := stepup.Policy.parse(stepup._default_document()).actions.get(route.step_up))
    and not rule.only_sensitive_tiers
]

WEAK_LOGINS: dict[str, Json] = {
    "no-acr": {},
    "password-only": {"acr": "pwd", "amr": ["pwd"], "auth_time": "now"},
    "mfa-too-old": {"acr": "mfa", "amr": ["pwd", "mfa"], "auth_time": "old"},
    "mfa-lookalike": {"acr": "MFA", "amr": ["MFA"], "auth_time": "now"},
    "auth-time-string": {"acr": "mfa", "auth_time": "0"},
}


def _login(claims: Json) -> Json:
    moments = {"now": now(), "old": now() - 3600}
    return {k: moments.get(v, v) if isinstance(v, str) else v for k, v in claims.items()}


@pytest.mark.parametrize("route", STEP_UP_ROUTES, ids=[r.route_key for r in STEP_UP_ROUTES])
def test_step_up_routes_refuse_weak_or_stale_logins(
    route: Route, api: Api, idp: Idp, target: Target
) -> None:
    with api.dynamo.unchanged((route.method, route.path)):
        for name, login in WEAK_LOGINS.items():
            token = idp.sign(claims=_login(login))
            reply = api.anon(
                route.method,
                target.path(route),
                example(route, target),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert_problem(reply, 401, "STEP_UP_REQUIRED", secrets=[token])
            challenge = reply.headers["www-authenticate"]
            assert challenge.startswith('Bearer error="insufficient_user_authentication"'), name
            assert 'acr_values="mfa"' in challenge and "max_age=" in challenge, challenge
