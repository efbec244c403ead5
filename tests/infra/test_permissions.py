"""Least privilege: a function gets exactly the tables and key uses its route declares."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from licensing_core.routes import ROUTES, Route

from tests.infra.cloud_assembly import CloudAssembly, references

routes = pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.route_key)

WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
}
READS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"}
KEY_USES: dict[str | None, set[str]] = {
    None: set(),
    "verify": {"kms:DescribeKey", "kms:GetPublicKey"},
    "sign": {"kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"},
}


def _actions(statement: dict[str, Any], service: str) -> set[str]:
    actions = statement["Action"]
    actions = [actions] if isinstance(actions, str) else actions
    return {action for action in actions if action.startswith(f"{service}:")}


def _grants(assembly: CloudAssembly, function_id: str, service: str) -> dict[str, set[str]]:
    """Resource logical id -> actions of ``service`` the function's role allows on it."""
    grants: dict[str, set[str]] = defaultdict(set)
    for statement in assembly.statements(function_id):
        actions = _actions(statement, service)
        if not actions:
            continue
        assert statement["Effect"] == "Allow"
        assert "*" not in (statement["Resource"], f"{service}:*"), statement
        assert f"{service}:*" not in actions
        for resource in set(references(statement["Resource"])):
            grants[resource] |= actions
    return grants


@routes
def test_function_reaches_only_its_routes_tables(
    assembly: CloudAssembly, table_ids: dict[str, str], route: Route
) -> None:
    names = {table_id: name for name, table_id in table_ids.items()}
    grants = _grants(assembly, assembly.function_of(route.route_key), "dynamodb")
    assert set(grants) <= set(names), "DynamoDB access to something that is not our table"
    granted = {names[table_id]: actions for table_id, actions in grants.items()}
    assert set(granted) == {name for name, _ in route.tables}
    for name, access in route.tables:
        assert granted[name] >= READS
        if access == "write":
            assert granted[name] >= WRITES
        else:
            assert not granted[name] & WRITES, f"{name} is read-only for {route.route_key}"


@routes
def test_function_uses_the_signing_key_only_as_declared(
    assembly: CloudAssembly, route: Route
) -> None:
    key = assembly.the("AWS::KMS::Key")
    grants = _grants(assembly, assembly.function_of(route.route_key), "kms")
    assert set(grants) <= {key}
    assert grants.get(key, set()) == KEY_USES[route.signing_key]


def test_only_signing_routes_may_sign(assembly: CloudAssembly) -> None:
    signers = {
        function_id
        for function_id in assembly.resources("AWS::Lambda::Function")
        for statement in assembly.statements(function_id)
        if "kms:Sign" in _actions(statement, "kms")
    }
    expected = {assembly.function_of(r.route_key) for r in ROUTES if r.signing_key == "sign"}
    assert signers == expected
