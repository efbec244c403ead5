"""OWASP API3 (broken object property level authorization): mass assignment.

Generated from the route table: for every route with a request model, each field of its
response model (and of the stored record) that the request model lacks -- ids,
timestamps, status, seats, generation... -- is added to a body the route would otherwise
accept, under its wire name and its Python name. Each is a 422 naming the field, and
nothing is written. Query models get the same treatment.
"""

from __future__ import annotations

from typing import Any

import pytest
from licensing_core.routes import ROUTES, Access, Route

from tests.e2e.client import Reply
from tests.security.examples import Target, example
from tests.security.support import Api, Json, assert_problem
from tests.support import model_fields

pytestmark = pytest.mark.e2e

#: Server-owned attributes of stored records that no request may set.
INTERNAL = (
    "minGeneration",
    "issuedClaims",
    "issuedTokenSha256",
    "createdBy",
    "tiersVersion",
    "statusReason",
    "statusChangedBy",
    "expiresTtl",
    "lastHeartbeatAt",
    "activeSeats",
    "status",
    "generation",
    "createdAt",
    "updatedAt",
)
WRITE_ROUTES = [r for r in ROUTES if r.request is not None]
#: Query models that forbid unknown parameters (a page link may carry ``utm_*`` and is
#: allowed to ignore them).
QUERY_ROUTES = [
    r for r in ROUTES if r.query is not None and r.query.model_config.get("extra") == "forbid"
]


def _names(model: type) -> set[str]:
    return set(model_fields(model)) | set(model_fields(model, mode="serialization"))


def _injected(route: Route) -> dict[str, Any]:
    """``wire name -> plausible value`` of every field the request must not accept."""
    assert route.request is not None
    accepted = _names(route.request)
    fields: dict[str, Any] = {}
    if route.response is not None:
        for name in model_fields(route.response, mode="serialization"):
            fields[name] = _plausible(name)
    for name in INTERNAL:
        fields[name] = _plausible(name)
    return {name: value for name, value in fields.items() if name not in accepted}


def _plausible(name: str) -> Any:
    lowered = name.lower()
    if lowered.endswith(("at", "_at")):
        return "2020-01-01T00:00:00Z"
    if any(word in lowered for word in ("seats", "generation", "count", "users", "heartbeats")):
        return 1_000_000
    if lowered in ("valid", "perpetual", "encrypted", "dead", "deactivated", "replayed"):
        return True
    if lowered == "status":
        return "active"
    return f"injected-{name}"


def _call(api: Api, route: Route, path: str, body: Json) -> Reply:
    if route.access is Access.ADMIN:
        return api.admin(route.method, path, body)
    if route.access is Access.END_USER:
        return api.user(route.method, path, body)
    return api.anon(route.method, path, body)


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=[r.route_key for r in WRITE_ROUTES])
def test_no_response_or_stored_field_can_be_assigned(
    route: Route, api: Api, target: Target
) -> None:
    assert route.request is not None
    base = example(route, target)
    assert base is not None
    route.request.model_validate(base)  # the base body alone is valid: only the field is wrong
    injected = _injected(route)
    assert injected, f"{route.route_key}: nothing to inject?"
    path = target.path(route)
    with api.dynamo.unchanged((route.method, route.path)):
        for name, value in injected.items():
            reply = _call(api, route, path, {**base, name: value})
            assert_problem(reply, 422, "VALIDATION_FAILED")
            errors = {(e["path"], e["type"]) for e in reply.body["errors"]}
            assert (f"body.{name}", "extra_forbidden") in errors, (name, reply.body)


#: A nested object of each kind, with one unknown member.
NESTED = {
    "heartbeat": {"intervalSeconds": 3600, "ttlSeconds": 7200, "ttlOverride": 1},
    "quotas": {"api_calls": {"limit": 1, "period": "month", "used": -5}},
    "stepUp": {"sso": {"acr": "mfa", "maxAge": 60, "bypass": True}},
    "offline": {"allowed": True, "maxTtlSeconds": 7200, "unlimited": True},
}
NESTED_ROUTES = [r for r in WRITE_ROUTES if r.request and set(NESTED) & _names(r.request)]


@pytest.mark.parametrize("route", NESTED_ROUTES, ids=[r.route_key for r in NESTED_ROUTES])
def test_nested_objects_refuse_unknown_members_too(route: Route, api: Api, target: Target) -> None:
    """Every object inside a body (heartbeat policy, quotas, step-up rules) forbids unknown
    members: adding one to each nested object is a 422."""
    assert route.request is not None
    base = example(route, target)
    assert base is not None
    cases = {name: value for name, value in NESTED.items() if name in _names(route.request)}
    with api.dynamo.unchanged((route.method, route.path)):
        for name, value in cases.items():
            reply = _call(api, route, target.path(route), {**base, name: value})
            assert_problem(reply, 422, "VALIDATION_FAILED")
            assert any(e["type"] == "extra_forbidden" for e in reply.body["errors"]), reply.body


@pytest.mark.parametrize("route", QUERY_ROUTES, ids=[r.route_key for r in QUERY_ROUTES])
def test_unknown_query_parameters_are_refused(route: Route, api: Api, target: Target) -> None:
    path = target.path(route)
    assert route.query is not None
    for extra in ("admin=true", "tenantId=other", "customerId=cus_x", "limit=5&select=*"):
        if not {pair.split("=")[0] for pair in extra.split("&")} - _names(route.query):
            continue  # parameters of this route (a search by tenant or identity)
        reply = api.admin("GET", f"{path}?{extra}")
        assert_problem(reply, 422, "VALIDATION_FAILED")
