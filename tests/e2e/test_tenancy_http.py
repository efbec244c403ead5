"""Tenant administrators and service accounts over real HTTP, with the tokens
``python -m local token --tenant/--service`` mints for the local server."""

from __future__ import annotations

from tests.e2e.client import LocalServer


def test_a_tenant_admin_sees_only_its_tenant(local_server: LocalServer) -> None:
    admin = local_server.admin_token
    ours = local_server.request("POST", "/tenants", token=admin, json_body={"name": "Ours"}).body
    theirs = local_server.request(
        "POST", "/tenants", token=admin, json_body={"name": "Theirs"}
    ).body
    token = local_server.token("admin", "--tenant", ours["tenantId"])
    mine = local_server.request("GET", f"/tenants/{ours['tenantId']}", token=token)
    assert mine.status == 200, mine
    other = local_server.request("GET", f"/tenants/{theirs['tenantId']}", token=token)
    assert other.status == 404 and other.body["code"] == "TENANT_NOT_FOUND"
    created = local_server.request(
        "POST", "/customers", token=token, json_body={"email": "t@example.com", "name": "T"}
    )
    assert created.status == 201 and created.body["tenantId"] == ours["tenantId"]
    summary = local_server.request("GET", f"/tenants/{ours['tenantId']}/summary", token=token)
    assert summary.status == 200 and summary.body["identities"]["active"] == 1


def test_a_read_only_service_account(local_server: LocalServer) -> None:
    token = local_server.token("admin", "--service", "licensing/read")
    assert local_server.request("GET", "/products", token=token).status == 200
    refused = local_server.request(
        "POST", "/products", token=token, json_body={"code": "Nope", "name": "Nope"}
    )
    assert refused.status == 403 and refused.body["code"] == "READ_ONLY"
