"""Hostile JSON and edge values, over HTTP: whatever the body, the answer is a 4xx problem
(never a 500, which would also flood the log with tracebacks) and nothing is written."""

from __future__ import annotations

import pytest

from tests.e2e.client import Reply
from tests.security.support import Api, Json, World, assert_problem

pytestmark = pytest.mark.e2e

ACTIVATE = ("POST", "/license-activations/activate")
JSON = {"Content-Type": "application/json"}


def _raw(api: Api, method: str, path: str, data: bytes, *, admin: bool = False) -> Reply:
    token = api.admin_token if admin else None
    return api.server.request(method, path, data=data, headers=JSON, token=token)


@pytest.mark.parametrize(
    "body",
    [
        b'{"keyToken": NaN, "machineId": "m"}',
        b'{"keyToken": "a.b.c", "machineId": Infinity}',
        b'{"keyToken": "a\\ud800.b.c", "machineId": "m"}',  # a lone surrogate
        b'{"keyToken": "a.b.c", "machineId": "m", "publicKey": {"kty": "RSA", "n": 1e309}}',
        b'{"keyToken": "a.b.c", "machineId": "m", "keyToken": ["override"]}',  # duplicate key
        b'{"keyToken": "a.b.c", "machineId": "m", "publicKey": {"kty": "RSA", "d": "x"}}',
        b"[]",
        b'"just a string"',
        b"\xef\xbb\xbf{}",  # a byte order mark
        b'{"keyToken": "a.b.c"',
    ],
    ids=[
        "nan",
        "infinity",
        "lone-surrogate",
        "overflowing-float",
        "duplicate-key",
        "private-jwk",
        "array",
        "string",
        "bom",
        "truncated",
    ],
)
def test_odd_json_is_a_4xx(api: Api, body: bytes) -> None:
    with api.dynamo.unchanged(ACTIVATE):
        reply = _raw(api, *ACTIVATE, body)
    assert 400 <= reply.status < 500, reply.body
    assert_problem(reply, reply.status)


def test_deeply_nested_json_is_400(api: Api) -> None:
    body = b"[" * 30_000 + b"]" * 30_000
    with api.dynamo.unchanged(ACTIVATE):
        reply = _raw(api, *ACTIVATE, body)
    assert_problem(reply, 400, "MALFORMED_JSON")


def test_an_integer_of_five_thousand_digits_is_400(api: Api) -> None:
    body = b'{"keyToken": "a.b.c", "machineId": "m", "product": ' + b"9" * 5000 + b"}"
    with api.dynamo.unchanged(ACTIVATE):
        reply = _raw(api, *ACTIVATE, body)
    assert_problem(reply, 400, "MALFORMED_JSON")


EDGES_OF_TIME = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]


@pytest.mark.parametrize("moment", EDGES_OF_TIME)
def test_expiry_at_the_edges_of_time_is_422(api: Api, world: World, moment: str) -> None:
    license = world.license()
    customer = world.customer()
    with api.dynamo.unchanged(("POST", "/license-keys"), ("POST", "/license-keys/x/renew")):
        issued = api.admin(
            "POST",
            "/license-keys",
            {
                "productId": world.product_id,
                "tierId": world.tiers["five"],
                "customerId": customer,
                "expiresAt": moment,
            },
        )
        renewed = api.admin(
            "POST", f"/license-keys/{license.license_id}/renew", {"expiresAt": moment}
        )
    for reply in (issued, renewed):
        assert reply.status == 422, reply.body


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("monthlyPrice", 10**13),
        ("monthlyPrice", -1),
        ("monthlyPrice", 1.0),
        ("monthlyPrice", True),
        ("maxUsers", 0),
        ("maxUsers", 10**10),
        ("maxUsers", "5"),
        ("currency", "eur"),
        ("billingPeriods", ["monthly", "monthly"]),
        ("features", ["sso"] * 2),
        ("features", ["no_such_feature"]),
        ("heartbeat", {"intervalSeconds": 3600, "ttlSeconds": 3600}),
        ("heartbeat", {"intervalSeconds": 1, "ttlSeconds": 120}),
        ("includesTierId", "../../etc/passwd"),
    ],
)
def test_tier_numbers_and_lists_are_bounded(
    api: Api, world: World, field: str, value: object
) -> None:
    body: Json = {
        "code": "bounded",
        "name": "Bounded",
        "monthlyPrice": 0,
        "annualPrice": 0,
        "currency": "EUR",
        "billingPeriods": ["monthly"],
        "maxUsers": 1,
        field: value,
    }
    route = ("POST", f"/products/{world.product_id}/tiers")
    with api.dynamo.unchanged(route):
        reply = api.admin(*route, body)
    assert reply.status in (404, 422), reply.body
    assert_problem(reply, reply.status)
