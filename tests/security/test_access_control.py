"""OWASP API Top 10 2023, API1 (BOLA) and API5 (BFLA), over HTTP.

BFLA is generated from the route table: every ADMIN route refuses a plain user's token
(403 ``NOT_AN_ADMIN``), a missing token (401 ``MISSING_TOKEN``) and a garbage one (401),
before anything is written, even with a body it would otherwise accept. PUBLIC and
APPLICATION routes never ask for a bearer token. BOLA: an application holding one
license reaches no other license's activations.
"""

from __future__ import annotations

import pytest
from licensing_core.routes import ROUTES, Access, Route

from tests.security.examples import Target, example
from tests.security.support import Api, World, assert_problem

pytestmark = pytest.mark.e2e

ADMIN_ROUTES = [r for r in ROUTES if r.access is Access.ADMIN]
OPEN_ROUTES = [r for r in ROUTES if r.access in (Access.PUBLIC, Access.APPLICATION)]
USER_ROUTES = [r for r in ROUTES if r.access is Access.END_USER]


def _key(route: Route) -> tuple[str, str]:
    return route.method, route.path


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=[r.route_key for r in ADMIN_ROUTES])
def test_admin_route_refuses_users_and_anonymous_callers(
    route: Route, api: Api, target: Target
) -> None:
    path = target.path(route)
    body = example(route, target)
    with api.dynamo.unchanged(_key(route)):
        as_user = api.user(route.method, path, body)
        anonymous = api.anon(route.method, path, body)
        garbage = api.anon(route.method, path, body, headers={"Authorization": "Bearer x.y.z"})
    assert_problem(as_user, 403, "NOT_AN_ADMIN", secrets=[api.user_token])
    assert_problem(anonymous, 401, "MISSING_TOKEN")
    assert_problem(garbage, 401, "INVALID_TOKEN")


@pytest.mark.parametrize("route", OPEN_ROUTES, ids=[r.route_key for r in OPEN_ROUTES])
def test_public_and_application_routes_need_no_bearer(route: Route, api: Api) -> None:
    """Without a body they fail validation at worst; never with 401/403."""
    path = route.path.replace("{productId}", "unknown-product")
    with api.dynamo.unchanged(_key(route)):
        reply = api.anon(route.method, path)
    assert reply.status not in (401, 403), (route.route_key, reply.body)
    assert reply.status < 500, (route.route_key, reply.body)


@pytest.mark.parametrize("route", USER_ROUTES, ids=[r.route_key for r in USER_ROUTES])
def test_end_user_routes_need_a_bearer(route: Route, api: Api, target: Target) -> None:
    path = target.path(route)
    with api.dynamo.unchanged(_key(route)):
        reply = api.anon(route.method, path, example(route, target))
    assert_problem(reply, 401, "MISSING_TOKEN")


# --- BOLA ------------------------------------------------------------------------------


def _forged_client_ids(
    own_client_id: str, victim_license: str, victim_activation: str
) -> list[str]:
    """What an application holding ``own_client_id`` can try against another license."""
    own_license, _, secret = own_client_id.partition(".")
    return [
        f"{victim_license}.{secret}",  # its own secret under the victim's license id
        f"{victim_license}.{victim_activation}",  # the victim's (hashed) activation id
        victim_activation,
        f"{victim_license}.{'A' * 32}",
        f"{own_license}.{victim_activation}",
        f"{victim_license}..{secret}",
        f"{victim_license}.{secret}\u0000",
    ]


def test_an_application_cannot_heartbeat_or_deactivate_another_license(
    api: Api, world: World, target: Target
) -> None:
    attacker = world.license()
    own = world.activate(attacker)
    forged = _forged_client_ids(own["clientId"], target.victim.license_id, target.activation_id)
    routes = [("POST", "/license-keys/heartbeat"), ("POST", "/license-activations/deactivate")]
    with api.dynamo.unchanged(*routes):
        for client_id in forged:
            beat = api.anon("POST", "/license-keys/heartbeat", {"clientId": client_id})
            assert_problem(beat, 404, "UNKNOWN_CLIENT", secrets=[target.client_id])
            gone = api.anon("POST", "/license-activations/deactivate", {"clientId": client_id})
            assert gone.status == 200 and gone.body == {"deactivated": False}, gone.body
    # the victim's machine still holds its seat and heartbeats
    assert api.anon("POST", "/license-keys/heartbeat", {"clientId": target.client_id}).status == 200


def test_admin_force_deactivate_checks_the_activation_belongs_to_the_license(
    api: Api, world: World, target: Target
) -> None:
    other = world.license()
    world.activate(other)
    route = ("POST", "/license-keys/x/activations/y/deactivate")
    with api.dynamo.unchanged(route):
        reply = api.admin(
            "POST",
            f"/license-keys/{other.license_id}/activations/{target.activation_id}/deactivate",
        )
    assert_problem(reply, 404, "ACTIVATION_NOT_FOUND")
    seats = api.ok("GET", f"/license-keys/{target.victim.license_id}/activations")
    assert seats["activeSeats"] == len(seats["items"]) == 1


def test_audit_refuses_a_token_of_another_license(api: Api, world: World, target: Target) -> None:
    other = world.license()
    with api.dynamo.unchanged(("POST", "/license-keys/x/audit")):
        reply = api.admin(
            "POST", f"/license-keys/{target.victim.license_id}/audit", {"token": other.key_token}
        )
    assert_problem(reply, 422, "TOKEN_MISMATCH", secrets=[other.key_token])


def test_listings_never_reveal_client_ids_or_keys(api: Api, target: Target) -> None:
    """The clientId is a bearer credential: only its hash is stored and shown."""
    license_id = target.victim.license_id
    secret = target.client_id.partition(".")[2]
    for path in (
        f"/license-keys/{license_id}/activations",
        f"/license-keys/{license_id}",
        f"/license-keys/{license_id}/history",
        f"/customers/{target.victim.customer_id}/license-keys",
    ):
        reply = api.admin("GET", path)
        assert reply.status == 200, reply.body
        text = str(reply.body)
        assert secret not in text and target.victim.key_token not in text, path
    stored = str(api.dynamo.snapshot())
    assert secret not in stored, "a clientId is stored in clear"
    assert target.victim.key_token.split(".")[2] not in stored, "a key token is stored"


def test_audit_refuses_garbage_posing_as_an_encrypted_token(api: Api, target: Target) -> None:
    with api.dynamo.unchanged(("POST", "/license-keys/x/audit")):
        reply = api.admin(
            "POST", f"/license-keys/{target.victim.license_id}/audit", {"token": "a.b.c.d.e"}
        )
    assert_problem(reply, 422, "MALFORMED")
