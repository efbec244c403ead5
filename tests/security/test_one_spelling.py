"""One spelling per token and body (RFC 8725 section 3.12, RFC 8259 section 4), over HTTP.

A JSON member named twice means one thing to a parser that keeps the last value and
another to one that keeps the first: bodies and tokens that repeat a member are refused
(400 ``DUPLICATE_MEMBER`` for bodies; an invalid key for tokens) and write nothing. A
base64url segment whose unused low bits are not zero decodes to the same bytes as the
canonical one: a license key, bearer token or machine token spelled so is refused, so
every token has exactly one spelling that verifies.
"""

from __future__ import annotations

import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.client import Reply
from tests.security.support import (
    Api,
    World,
    assert_invalid_key,
    assert_problem,
    b64url,
    decode_segment,
    rs256,
)

pytestmark = pytest.mark.e2e

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def other_spellings(part: str) -> list[str]:
    """The same bytes, spelled with non-zero unused bits in the last character."""
    unused = {2: 4, 3: 2}.get(len(part) % 4, 0)
    last = ALPHABET.index(part[-1])
    return [part[:-1] + ALPHABET[last | bits] for bits in range(1, 2**unused)]


def raw_post(api: Api, path: str, text: str, token: str | None = None) -> Reply:
    headers = {"Content-Type": "application/json"}
    return api.server.request("POST", path, token=token, data=text.encode(), headers=headers)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/license-keys/validate", '{"keyToken": "a.b.c", "keyToken": "x.y.z"}'),
        ("/license-activations/activate", '{"keyToken": "k", "machineId": "a", "machineId": "b"}'),
        ("/license-activations/deactivate", '{"clientId": "x", "clientId": "y"}'),
        ("/register", '{"email": "a@example.com", "email": "b@example.com", '
         '"productCode": "P", "tierCode": "t"}'),
        ("/usage", '{"clientId": "c", "meter": "m", "quantity": 1, "quantity": 1000, '
         '"idempotencyKey": "k"}'),
        ("/license-keys/validate", '{"outer": {"a": 1, "a": 2}, "keyToken": "t"}'),
    ],
)  # fmt: skip
def test_a_body_naming_a_member_twice_is_refused(api: Api, path: str, text: str) -> None:
    with api.dynamo.unchanged(("POST", path)):
        reply = raw_post(api, path, text)
    assert_problem(reply, 400, "DUPLICATE_MEMBER")
    assert "more than once" in reply.body["detail"]


def test_an_admin_body_naming_a_member_twice_is_refused(api: Api, world: World) -> None:
    customer = world.customer()
    text = (
        f'{{"productId": "{world.product_id}", "tierId": "{world.tiers["two"]}", '
        f'"tierId": "{world.tiers["five"]}", "customerId": "{customer}", "perpetual": true}}'
    )
    with api.dynamo.unchanged(("POST", "/license-keys")):
        reply = raw_post(api, "/license-keys", text, token=api.admin_token)
    assert_problem(reply, 400, "DUPLICATE_MEMBER")


def test_the_same_body_with_unique_members_passes(api: Api, world: World) -> None:
    """The positive control: the duplicate, and nothing else, is what is refused."""
    license = world.license("two")
    reply = raw_post(api, "/license-keys/validate", json.dumps({"keyToken": license.key_token}))
    assert reply.status == 200 and reply.body["valid"] is True


def test_a_license_key_has_one_spelling(api: Api, world: World) -> None:
    license = world.license("two")
    header, payload, signature = license.key_token.split(".")
    spellings = [
        *(f"{header}.{payload}.{s}" for s in other_spellings(signature)),
        *(f"{h}.{payload}.{signature}" for h in other_spellings(header)),
        *(f"{header}.{p}.{signature}" for p in other_spellings(payload)),
    ]
    assert spellings, "the key's segments have unused bits to flip"
    for token in spellings:
        reply = api.anon("POST", "/license-keys/validate", {"keyToken": token})
        assert_invalid_key(reply, "MALFORMED", token=token)
        with api.dynamo.unchanged(("POST", "/license-activations/activate")):
            activation = api.anon(
                "POST",
                "/license-activations/activate",
                {"keyToken": token, "machineId": uuid.uuid4().hex},
            )
        assert activation.status in (400, 403, 422), activation.body
    assert api.dynamo.live_activations(license.license_id) == 0


def test_a_signed_key_naming_a_member_twice_is_refused(
    api: Api, world: World, signing_key: tuple[str, rsa.RSAPrivateKey]
) -> None:
    """Signed with our own key, so only the repeated member can be why: ``sub`` twice in
    the claims (a reader keeping the first sees another license), ``typ`` twice in the
    header."""
    kid, key = signing_key
    header_part, payload_part, _ = world.license("two").key_token.split(".")
    claims = json.dumps(decode_segment(payload_part))
    header = json.dumps({"alg": "RS256", "typ": "license+jwt", "kid": kid})
    for doubled_header, doubled_claims in [
        (header_part, b64url(claims[:-1] + ', "sub": "lic_other"}')),
        (b64url('{"typ": "activation+jwt", ' + header[1:]), payload_part),
    ]:
        signing_input = f"{doubled_header}.{doubled_claims}"
        token = f"{signing_input}.{rs256(key, signing_input)}"
        reply = api.anon("POST", "/license-keys/validate", {"keyToken": token})
        assert_invalid_key(reply, "MALFORMED", token=token)


def test_a_bearer_token_has_one_spelling(api: Api) -> None:
    token = api.admin_token
    header, payload, signature = token.split(".")
    for spelled in other_spellings(signature):
        reply = api.server.request("GET", "/products", token=f"{header}.{payload}.{spelled}")
        assert_problem(reply, 401, "INVALID_TOKEN")
    assert api.server.request("GET", "/products", token=token).status == 200
