"""Idempotency keys live in the caller's own space, over HTTP.

Activation keys belong to the license the key token proves: another licensee's use of
the same ``Idempotency-Key`` neither collides (a denial of service) nor tells anything
(an existence oracle), and a replay never hands out a machine token for a license that
was revoked or suspended since the first answer. Issuance keys belong to the caller's
tenant and subject: service accounts of one app client share a subject, not a tenant.
The usage report's ``idempotencyKey`` reused with another body is a 422, as on the
header routes, and counts nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.security.support import Api, Json, License, World, assert_problem

pytestmark = pytest.mark.e2e

ACTIVATE = "/license-activations/activate"


def _activate(api: Api, license: License, key: str, machine: str | None = None) -> Any:
    body = {"keyToken": license.key_token, "machineId": machine or uuid.uuid4().hex}
    return api.anon("POST", ACTIVATE, body, headers={"Idempotency-Key": key})


def test_one_licensees_key_never_collides_with_anothers(api: Api, world: World) -> None:
    first, second = world.license("two"), world.license("two")
    key = f"order-{uuid.uuid4().hex}"
    mine = _activate(api, first, key)
    theirs = _activate(api, second, key)
    assert (mine.status, theirs.status) == (201, 201), theirs.body
    assert mine.body["clientId"].startswith(first.license_id)
    assert theirs.body["clientId"].startswith(second.license_id)
    assert api.dynamo.live_activations(second.license_id) == 1


def test_the_same_licensee_replays_its_first_answer(api: Api, world: World) -> None:
    license = world.license("two")
    key, machine = uuid.uuid4().hex, uuid.uuid4().hex
    first = _activate(api, license, key, machine)
    again = _activate(api, license, key, machine)
    assert first.status == again.status == 201
    assert again.body == first.body
    assert api.dynamo.active_seats(license.license_id) == 1
    other_body = _activate(api, license, key, uuid.uuid4().hex)
    assert_problem(other_body, 422, "IDEMPOTENCY_KEY_REUSED")
    assert api.dynamo.active_seats(license.license_id) == 1


def test_a_key_another_licensee_used_reveals_nothing(api: Api, world: World) -> None:
    """A used key and a fresh one answer alike for a key token that does not verify."""
    victim, attacker = world.license("two"), world.license("two")
    used = uuid.uuid4().hex
    assert _activate(api, victim, used).status == 201
    forged = License(attacker.license_id, attacker.key_token[:-4] + "AAAA", "", "")
    replies = [_activate(api, forged, key) for key in (used, uuid.uuid4().hex)]
    assert [r.status for r in replies] == [403, 403]
    assert replies[0].body["code"] == replies[1].body["code"]


@pytest.mark.parametrize(("action", "code"), [("revoke", "REVOKED"), ("suspend", "SUSPENDED")])
def test_a_replay_never_outlives_a_revocation(
    api: Api, world: World, action: str, code: str
) -> None:
    license = world.license("two")
    key, machine = uuid.uuid4().hex, uuid.uuid4().hex
    assert _activate(api, license, key, machine).status == 201
    api.ok("POST", f"/license-keys/{license.license_id}/{action}", {"reason": "fraud"})
    replay = _activate(api, license, key, machine)
    assert_problem(replay, 403, code)
    assert "token" not in replay.body


def _issue(api: Api, token: str, world: World, customer_id: str, key: str) -> Any:
    body = {
        "productId": world.product_id,
        "tierId": world.tiers["two"],
        "customerId": customer_id,
        "perpetual": True,
    }
    return api.server.request(
        "POST", "/license-keys", token=token, json_body=body, headers={"Idempotency-Key": key}
    )


def test_issuance_keys_of_two_tenants_never_meet(api: Api, world: World) -> None:
    """Two service-account tokens of one app client (one subject), each limited to its own
    tenant, use the same key: each issues its own license."""
    issued = []
    key = f"batch-{uuid.uuid4().hex}"
    for name in ("Tenant one", "Tenant two"):
        tenant = api.ok("POST", "/tenants", {"name": name})["tenantId"]
        customer = api.ok(
            "POST",
            "/customers",
            {"email": f"{uuid.uuid4().hex[:10]}@example.com", "name": name, "tenantId": tenant},
        )["customerId"]
        token = api.server.token("admin", "--service", "licensing/admin", "--tenant", tenant)
        reply = _issue(api, token, world, customer, key)
        assert reply.status == 201, reply.body
        issued.append(reply.body["licenseId"])
    assert len(set(issued)) == 2


def test_the_same_caller_replays_an_issuance(api: Api, world: World) -> None:
    customer = world.customer()
    key = uuid.uuid4().hex
    first = _issue(api, api.admin_token, world, customer, key)
    again = _issue(api, api.admin_token, world, customer, key)
    assert first.status == again.status == 201
    assert again.body["licenseId"] == first.body["licenseId"]


# --- The usage report's idempotencyKey -----------------------------------------------


@pytest.fixture(scope="module")
def metered(api: Api, world: World) -> tuple[License, str]:
    """A license of a tier with two meters, and an activation's clientId."""
    tier = api.ok(
        "POST",
        f"/products/{world.product_id}/tiers",
        {
            "code": "metered",
            "name": "Metered",
            "monthlyPrice": 10,
            "currency": "EUR",
            "annualPrice": 100,
            "billingPeriods": ["monthly"],
            "maxUsers": 2,
            "quotas": {
                "api_calls": {"limit": 100, "period": "month"},
                "exports": {"limit": 100, "period": "month"},
            },
        },
    )["tierId"]
    world.tiers["metered"] = tier
    license = world.license("metered")
    return license, world.activate(license)["clientId"]


def _usage(api: Api, client_id: str, key: str, **body: Any) -> Any:
    report: Json = {"clientId": client_id, "meter": "api_calls", "quantity": 1, **body}
    return api.anon("POST", "/usage", {**report, "idempotencyKey": key})


def _used(api: Api, license: License) -> dict[str, int]:
    counters = api.ok("GET", f"/customers/{license.customer_id}/usage")["items"]
    return {c["meter"]: int(c["used"]) for c in counters if c["licenseId"] == license.license_id}


@pytest.mark.parametrize(
    "changed", [{"quantity": 2}, {"meter": "exports"}, {"meter": "exports", "quantity": 2}]
)
def test_a_usage_key_reused_with_another_body_is_refused_and_counts_nothing(
    api: Api, metered: tuple[License, str], changed: dict[str, Any]
) -> None:
    license, client_id = metered
    key = uuid.uuid4().hex
    assert _usage(api, client_id, key).status == 200
    before = _used(api, license)
    refused = _usage(api, client_id, key, **changed)
    assert_problem(refused, 422, "IDEMPOTENCY_KEY_REUSED")
    assert _used(api, license) == before
    replay = _usage(api, client_id, key)
    assert (replay.status, replay.body["replayed"]) == (200, True)
    assert _used(api, license) == before
