"""Step-up covers every route that signs, extends or re-enables access (RFC 9470).

The route table says which routes give access (``Route.grants_access``); each names a
step-up action or has a written exemption. Over HTTP, every step-up route refuses a
plain admin session, a stale one, one whose ``auth_time`` lies in the future and any
service account (which can never step up), before anything is written; a fresh MFA
session passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from licensing_core.identity.stepup import get_policy
from licensing_core.routes import ROUTES, STEP_UP_EXEMPTIONS, Route, route_for

from local.aws import with_mfa
from tests.e2e.client import Reply
from tests.security.examples import Target, example
from tests.security.support import Api, World, assert_problem

#: Words that name an action giving access back or for longer: a route whose function or
#: path holds one must say it gives access, so the coverage check below sees it.
ACCESS_VERBS = (
    "renew", "reinstate", "reactivate", "regenerate", "restore", "extend", "enable",
    "unrevoke", "unsuspend", "resume", "borrow", "checkout", "grant",
)  # fmt: skip

STEP_UP_ROUTES = [r for r in ROUTES if r.step_up]


def test_every_route_that_gives_access_steps_up_or_says_why_not() -> None:
    uncovered = [
        r.route_key for r in ROUTES if r.grants_access and not r.step_up
        and len(STEP_UP_EXEMPTIONS.get(r.function, "")) < 40
    ]  # fmt: skip
    assert not uncovered, f"give these a step_up action or a written exemption: {uncovered}"


def test_exemptions_are_for_routes_that_need_one() -> None:
    for function in STEP_UP_EXEMPTIONS:
        route = route_for(function)
        assert route.grants_access and not route.step_up, function


def test_routes_named_for_giving_access_declare_it() -> None:
    for route in ROUTES:
        words = f"{route.function} {route.path}".lower()
        if any(verb in words for verb in ACCESS_VERBS):
            assert route.grants_access, f"{route.route_key} gives access: declare it"


def test_every_step_up_action_is_in_the_policy() -> None:
    actions = get_policy().actions
    for route in STEP_UP_ROUTES:
        assert route.step_up in actions, route.route_key


@pytest.mark.parametrize(
    "function",
    ["renew_license", "reinstate_license", "regenerate_license", "reactivate_customer"],
)
def test_actions_that_extend_or_re_enable_are_always_challenged(function: str) -> None:
    rule = get_policy().actions[route_for(function).step_up or ""]
    assert rule.acr_values and rule.max_age and not rule.only_sensitive_tiers


# --- Over HTTP --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sensitive_tier(world: World, api: Api) -> str:
    """A tier whose issuance needs step-up (``license.issue`` applies to those only)."""
    tier_id: str = api.ok(
        "POST",
        f"/products/{world.product_id}/tiers",
        {
            "code": "vault",
            "name": "Vault",
            "monthlyPrice": 1000,
            "annualPrice": 10000,
            "currency": "EUR",
            "billingPeriods": ["monthly"],
            "maxUsers": 3,
        },
    )["tierId"]
    api.ok("PATCH", f"/products/{world.product_id}/tiers/{tier_id}", {"sensitive": True})
    return tier_id


def _attempt(route: Route, token: str, api: Api, target: Target, sensitive_tier: str) -> Reply:
    """The route called with a body it would accept, and nothing written."""
    body = example(route, target)
    if route.function == "issue_license" and body is not None:
        body["tierId"] = sensitive_tier  # license.issue applies to sensitive tiers only
    with api.dynamo.unchanged((route.method, route.path)):
        return api.server.request(route.method, target.path(route), token=token, json_body=body)


def _service_token(api: Api) -> str:
    return api.server.token("admin", "--service", "licensing/admin")


SESSIONS: dict[str, Callable[[str], str]] = {
    "plain": lambda admin: admin,
    "stale": lambda admin: with_mfa(admin, auth_time=int(time.time()) - 3600),
    "future": lambda admin: with_mfa(admin, auth_time=int(time.time()) + 3600),
    "far-future": lambda admin: with_mfa(admin, auth_time=2**40),
    "no-auth-time": lambda admin: with_mfa(admin, auth_time=None),
    "string-auth-time": lambda admin: with_mfa(admin, auth_time=str(int(time.time()))),
    "acr-only": lambda admin: with_mfa(admin, amr=["pwd"], acr="pwd"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("session", SESSIONS)
@pytest.mark.parametrize("route", STEP_UP_ROUTES, ids=[r.route_key for r in STEP_UP_ROUTES])
def test_a_session_short_of_the_policy_is_challenged_and_nothing_is_written(
    route: Route, session: str, api: Api, target: Target, sensitive_tier: str
) -> None:
    token = SESSIONS[session](api.server.admin_token)
    reply = _attempt(route, token, api, target, sensitive_tier)
    assert_problem(reply, 401, "STEP_UP_REQUIRED")
    challenge = reply.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="insufficient_user_authentication"')
    assert 'acr_values="mfa"' in challenge and "max_age=" in challenge


@pytest.mark.e2e
@pytest.mark.parametrize("route", STEP_UP_ROUTES, ids=[r.route_key for r in STEP_UP_ROUTES])
def test_a_service_account_can_never_step_up(
    route: Route, api: Api, target: Target, sensitive_tier: str
) -> None:
    reply = _attempt(route, _service_token(api), api, target, sensitive_tier)
    assert_problem(reply, 403, "HUMAN_ONLY")


@pytest.mark.e2e
def test_a_fresh_mfa_session_passes_and_a_small_clock_skew_is_tolerated(
    api: Api, world: World
) -> None:
    """The positive control: renew, suspend/reinstate and deactivate/reactivate with a
    fresh MFA session, one of them with ``auth_time`` a few seconds ahead (skew)."""
    customer_id = world.customer()
    issued = api.ok(
        "POST",
        "/license-keys",
        {
            "productId": world.product_id,
            "tierId": world.tiers["two"],
            "customerId": customer_id,
            "expiresAt": "2030-01-01T00:00:00Z",
        },
    )
    license_path = f"/license-keys/{issued['licenseId']}"
    admin = api.server.admin_token
    skewed = with_mfa(admin, auth_time=int(time.time()) + 10)
    calls: list[tuple[str, str, Any, str]] = [
        ("POST", f"{license_path}/renew", {"expiresAt": "2031-01-01T00:00:00Z"}, skewed),
        ("POST", f"{license_path}/suspend", {"reason": "audit"}, admin),
        ("POST", f"{license_path}/reinstate", {"reason": "ok"}, with_mfa(admin)),
        ("POST", f"/customers/{customer_id}/deactivate", {"reason": "x"}, with_mfa(admin)),
        ("POST", f"/customers/{customer_id}/reactivate", {"reason": "x"}, with_mfa(admin)),
    ]  # fmt: skip
    for method, path, body, token in calls:
        reply = api.server.request(method, path, token=token, json_body=body)
        assert reply.status == 200, (path, reply.status, reply.body)


@pytest.mark.e2e
def test_a_phished_plain_session_cannot_undo_containment(api: Api, world: World) -> None:
    """Deactivating an identity needed MFA; reactivating it needs it too."""
    issued = world.license("two")
    api.ok("POST", f"/customers/{issued.customer_id}/deactivate", {"reason": "phished"})
    path = f"/customers/{issued.customer_id}/reactivate"
    with api.dynamo.unchanged(("POST", "/customers/{customerId}/reactivate")):
        reply = api.server.request("POST", path, token=api.server.admin_token, json_body={})
    assert_problem(reply, 401, "STEP_UP_REQUIRED")
    validation = api.anon("POST", "/license-keys/validate", {"keyToken": issued.key_token})
    assert validation.body["code"] == "IDENTITY_DEACTIVATED"
