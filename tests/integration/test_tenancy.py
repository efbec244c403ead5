"""Tenants kept apart: tenant administrators manage only their tenant, whatever id they
name. The isolation matrix is generated from the route table, so a new route is covered
(or refused) without a new test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from licensing_core.routes import ROUTES, Access, Route
from licensing_core.services import tenancy
from licensing_core.store.models import ALL_MODELS

from local.aws import with_mfa
from tests.integration.conftest import CognitoPool, perpetual_key
from tests.support import Response, invoke

ADMIN_ROUTES = [route for route in ROUTES if route.access is Access.ADMIN]


@dataclass
class World:
    """Two tenants, each with an identity, a license and an active machine."""

    ids: dict[str, dict[str, str]]  # tenant name -> {tenantId, customerId, ...}
    shared: dict[str, str]  # productId, tierId
    admins: dict[str, str]  # tenant name -> its tenant admin's (MFA) token


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every item of every table: what "nothing changed" compares."""
    return {
        model.Meta.table_name: sorted(
            (item.to_simple_dict() for item in model.scan()),
            key=repr,
        )
        for model in ALL_MODELS
    }


def tenant_admin(aws: CognitoPool, tenant_id: str, name: str = "admin") -> str:
    return with_mfa(
        aws.id_token(f"{name}-{tenant_id}@example.com", "tenant-admins", tenant=tenant_id)
    )


@pytest.fixture
def world(
    aws: CognitoPool, admin: Callable[..., Response], product: str, tiers: dict[str, str]
) -> World:
    ids: dict[str, dict[str, str]] = {}
    for name in ("a", "b"):
        tenant = admin("POST", "/tenants", {"name": f"Tenant {name}"})
        assert tenant.status == 201, tenant.text
        tenant_id = tenant.json["tenantId"]
        customer = admin(
            "POST",
            "/customers",
            {"email": f"{name}@example.com", "name": name, "tenantId": tenant_id},
        )
        assert customer.status == 201, customer.text
        key = perpetual_key(admin, product, tiers["pro"], customer.json["customerId"])
        activated = invoke(
            "POST",
            "/license-activations/activate",
            body={"keyToken": key["keyToken"], "machineId": f"machine-{name}"},
        )
        assert activated.status == 201, activated.text
        ids[name] = {
            "tenantId": tenant_id,
            "customerId": customer.json["customerId"],
            "licenseId": key["licenseId"],
            "activationId": activated.json["activationId"],
            "keyToken": key["keyToken"],
        }
    return World(
        ids=ids,
        shared={"productId": product, "tierId": tiers["pro"]},
        admins={name: tenant_admin(aws, ids[name]["tenantId"]) for name in ids},
    )


def path_of(route: Route, values: dict[str, str]) -> str:
    path = route.path
    for name in route.path_params:
        path = path.replace(f"{{{name}}}", values[name])
    return path


def owned_params(route: Route) -> list[str]:
    return [name for name in route.path_params if name in tenancy.OWNED]


#: A valid body for each request model that names an owned id, filled from a tenant's ids.
BODIES_NAMING_IDS: dict[str, Callable[[dict[str, str], dict[str, str]], dict[str, Any]]] = {
    "issue_license": lambda own, shared: {
        "productId": shared["productId"],
        "tierId": shared["tierId"],
        "customerId": own["customerId"],
        "perpetual": True,
    },
    "create_customer": lambda own, shared: {
        "email": "new@example.com",
        "name": "New",
        "tenantId": own["tenantId"],
    },
}


def test_every_path_parameter_is_owned_shared_or_nested() -> None:
    """A new kind of id must be placed before a tenant admin can name it."""
    known = set(tenancy.OWNED) | tenancy.SHARED | tenancy.NESTED
    for route in ROUTES:
        if route.access is Access.ADMIN and route.tenant_admins:  # what tenant admins reach
            assert set(route.path_params) <= known, route.route_key


def test_every_body_naming_an_owned_id_has_a_sample() -> None:
    named = {
        route.function
        for route in ADMIN_ROUTES
        if route.tenant_admins and route.request and tenancy.body_ids(route.request)
    }
    assert named == set(BODIES_NAMING_IDS)


def test_tenant_admin_on_another_tenants_ids_gets_404_and_changes_nothing(world: World) -> None:
    """Every administrator route with an id in its path, tenant A's admin against tenant
    B's records: 404 (as for an id that does not exist), and no table changes. Routes
    tenant admins may not call at all answer 403."""
    before = snapshot()
    covered = 0
    for route in ADMIN_ROUTES:
        if not route.path_params:
            continue
        values = {**world.shared, **world.ids["b"]}
        answer = invoke(route.method, path_of(route, values), body={}, token=world.admins["a"])
        if not route.tenant_admins:
            assert answer.status == 403, (route.route_key, answer.text)
            assert answer.json["code"] == "NOT_A_PLATFORM_ADMIN"
            continue
        if not owned_params(route):
            continue  # the shared catalog: readable by every administrator
        covered += 1
        assert answer.status == 404, (route.route_key, answer.text)
        missing = {**values, **{name: f"{values[name]}x" for name in owned_params(route)}}
        nowhere = invoke(route.method, path_of(route, missing), body={}, token=world.admins["a"])
        assert nowhere.status == 404, (route.route_key, nowhere.text)
        first = owned_params(route)[0]
        assert answer.json["code"] == nowhere.json["code"], route.route_key
        assert answer.json["detail"].replace(values[first], "") == nowhere.json["detail"].replace(
            f"{values[first]}x", ""
        ), route.route_key
    assert covered >= 15
    assert snapshot() == before


def test_tenant_admin_naming_another_tenants_ids_in_a_body_gets_422_and_changes_nothing(
    world: World,
) -> None:
    before = snapshot()
    for route in ADMIN_ROUTES:
        if route.function not in BODIES_NAMING_IDS:
            continue
        body = BODIES_NAMING_IDS[route.function](world.ids["b"], world.shared)
        answer = invoke(route.method, route.path, body=body, token=world.admins["a"])
        assert answer.status == 422, (route.route_key, answer.text)
        assert answer.json["code"] in ("CUSTOMER_NOT_FOUND", "TENANT_NOT_FOUND")
    assert snapshot() == before


def test_tenant_admin_naming_another_tenants_ids_in_a_query_gets_422_and_changes_nothing(
    world: World,
) -> None:
    """Every route whose query names an owned id (``/stats?tenantId=``): tenant A's admin
    naming B's gets 422 (as for an id that does not exist) and no table changes; naming
    its own is answered."""
    before = snapshot()
    covered = 0
    for route in ADMIN_ROUTES:
        named = tenancy.body_ids(route.query) if route.query and route.tenant_admins else {}
        if not named:
            continue
        covered += 1
        path = path_of(route, {**world.shared, **world.ids["a"]})
        for owner, status in (("b", 422), ("a", 200)):
            query = {name: world.ids[owner][name] for name in named}
            answer = invoke(route.method, path, query=query, token=world.admins["a"])
            assert answer.status == status, (route.route_key, owner, answer.text)
            if status == 422:
                assert answer.json["code"] == f"{next(iter(named))[:-2].upper()}_NOT_FOUND"
    assert covered >= 2
    assert snapshot() == before


def test_tenant_admin_reaches_its_own_records(world: World) -> None:
    """The control: the same reads with the tenant's own ids succeed."""
    own = {**world.shared, **world.ids["a"]}
    reads = [r for r in ADMIN_ROUTES if r.method == "GET" and r.tenant_admins]
    for route in reads:
        answer = invoke("GET", path_of(route, own), token=world.admins["a"])
        assert answer.status == 200, (route.route_key, answer.text)
    listed = invoke("GET", f"/tenants/{own['tenantId']}/customers", token=world.admins["a"])
    assert [c["customerId"] for c in listed.json["items"]] == [own["customerId"]]
    revoked = invoke(
        "POST",
        f"/license-keys/{own['licenseId']}/revoke",
        body={"reason": "t"},
        token=world.admins["a"],
    )
    assert revoked.status == 200, revoked.text


def test_tenant_admin_creates_identities_in_its_own_tenant(world: World) -> None:
    own = world.ids["a"]["tenantId"]
    created = invoke(
        "POST", "/customers", body={"email": "c@example.com", "name": "C"}, token=world.admins["a"]
    )
    assert created.status == 201, created.text
    assert created.json["tenantId"] == own
    named = invoke(
        "POST",
        "/customers",
        body={"email": "d@example.com", "name": "D", "tenantId": own},
        token=world.admins["a"],
    )
    assert named.status == 201 and named.json["tenantId"] == own


def test_platform_only_routes_refuse_tenant_admins(world: World) -> None:
    before = snapshot()
    for body, path in (({"name": "X"}, "/tenants"), ({"code": "X", "name": "X"}, "/products")):
        answer = invoke("POST", path, body=body, token=world.admins["a"])
        assert answer.status == 403 and answer.json["code"] == "NOT_A_PLATFORM_ADMIN"
    assert snapshot() == before


def test_a_tenant_admin_token_must_name_its_tenant(aws: CognitoPool, world: World) -> None:
    token = with_mfa(aws.id_token("nameless@example.com", "tenant-admins"))
    answer = invoke("GET", f"/tenants/{world.ids['a']['tenantId']}", token=token)
    assert answer.status == 403 and answer.json["code"] == "NO_TENANT_CLAIM"


def test_the_tenant_comes_from_the_verified_token_not_the_request(
    aws: CognitoPool, world: World
) -> None:
    """An access token carries no tenant attribute; a header or query naming one is
    ignored: the tenant admin of nothing is refused."""
    access = with_mfa(aws.user_token("access-only@example.com", "tenant-admins"))
    answer = invoke(
        "GET",
        f"/tenants/{world.ids['a']['tenantId']}",
        token=access,
        headers={"x-tenant-id": world.ids["a"]["tenantId"]},
    )
    assert answer.status == 403 and answer.json["code"] == "NO_TENANT_CLAIM"


def test_platform_admins_see_every_tenant(world: World, admin: Callable[..., Response]) -> None:
    for name in ("a", "b"):
        answer = admin("GET", f"/license-keys/{world.ids[name]['licenseId']}")
        assert answer.status == 200


def test_a_tenant_admin_cannot_bind_an_identity_provider_account(world: World) -> None:
    """Else it could name another tenant's person and disable their account by
    deactivating the identity."""
    before = snapshot()
    answer = invoke(
        "POST",
        "/customers",
        body={"email": "v@example.com", "name": "V", "subject": "someone-elses-sub"},
        token=world.admins["a"],
    )
    assert answer.status == 403 and answer.json["code"] == "SUBJECT_NOT_ALLOWED"
    assert snapshot() == before
