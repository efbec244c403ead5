"""Least privilege: a function gets exactly the tables, key uses, events and identity
actions its route declares."""

from __future__ import annotations

import pytest
from licensing_core.routes import ROUTES, Route

from cdk.identity import IDENTITY_PROVIDER_ACTIONS
from cdk.specs import route_spec
from tests.infra.cloud_assembly import UNSCOPED_ACTIONS, CloudAssembly, actions, grants, references

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


@routes
def test_function_reaches_only_its_routes_tables(
    assembly: CloudAssembly, table_ids: dict[str, str], route: Route
) -> None:
    names = {table_id: name for name, table_id in table_ids.items()}
    granted = grants(assembly, assembly.function_of(route.route_key), "dynamodb")
    assert set(granted) <= set(names), "DynamoDB access to something that is not our table"
    by_name = {names[table_id]: allowed for table_id, allowed in granted.items()}
    assert set(by_name) == {name for name, _ in route.tables}
    for name, access in route.tables:
        assert by_name[name] >= READS
        if access == "write":
            assert by_name[name] >= WRITES
        else:
            assert not by_name[name] & WRITES, f"{name} is read-only for {route.route_key}"


@routes
def test_function_uses_the_signing_key_only_as_declared(
    assembly: CloudAssembly, route: Route
) -> None:
    key = assembly.the("AWS::KMS::Key")
    granted = grants(assembly, assembly.function_of(route.route_key), "kms")
    assert set(granted) <= {key}
    assert granted.get(key, set()) == KEY_USES[route.signing_key]


def test_only_signing_routes_may_sign(assembly: CloudAssembly) -> None:
    signers = {
        function_id
        for function_id in assembly.resources("AWS::Lambda::Function")
        for statement in assembly.statements(function_id)
        if "kms:Sign" in actions(statement, "kms")
    }
    expected = {assembly.function_of(r.route_key) for r in ROUTES if r.signing_key == "sign"}
    # The post-confirmation trigger issues the licenses of tenants' provisioning policies.
    pool = assembly.properties(assembly.the("AWS::Cognito::UserPool"))
    expected |= set(references(pool["LambdaConfig"]["PostConfirmation"]))
    assert signers == expected


@routes
def test_no_route_puts_lifecycle_events(assembly: CloudAssembly, route: Route) -> None:
    """Requests commit their audit record; the outbox's publisher puts the event."""
    function_id = assembly.function_of(route.route_key)
    assert grants(assembly, function_id, "events") == {}
    assert "LICENSING_EVENT_BUS" not in assembly.environment(function_id)


@routes
def test_only_routes_using_the_identity_provider_reach_the_pool(
    assembly: CloudAssembly, route: Route
) -> None:
    """Exactly the Cognito actions of the route's declared use, and the pool's id."""
    pool = assembly.the("AWS::Cognito::UserPool")
    function_id = assembly.function_of(route.route_key)
    granted = grants(assembly, function_id, "cognito-idp")
    variables = assembly.environment(function_id)
    use = route_spec(route).identity_provider
    if use is None:
        assert granted == {}
        assert "LICENSING_COGNITO_USER_POOL_ID" not in variables
    else:
        assert granted == {pool: set(IDENTITY_PROVIDER_ACTIONS[use])}
        assert variables["LICENSING_COGNITO_USER_POOL_ID"] == {"Ref": pool}


def test_no_function_outside_routes_reaches_the_pool(assembly: CloudAssembly) -> None:
    routed = {assembly.function_of(route.route_key) for route in ROUTES}
    for function_id in set(assembly.resources("AWS::Lambda::Function")) - routed:
        assert grants(assembly, function_id, "cognito-idp") == {}


def test_the_only_unscoped_statements_are_x_rays_and_list_streams(
    assembly: CloudAssembly,
) -> None:
    """X-Ray and ``ListStreams`` have no resource-level permissions (only a stream
    consumer lists streams); everything else names its resource."""
    consumers = {
        function_id
        for mapping in assembly.resources("AWS::Lambda::EventSourceMapping").values()
        for function_id in references(mapping["Properties"]["FunctionName"])
    }
    for function_id in assembly.resources("AWS::Lambda::Function"):
        allowed = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
        if function_id in consumers:
            allowed |= UNSCOPED_ACTIONS
        for statement in assembly.statements(function_id):
            resources = statement["Resource"]
            if "*" in (resources if isinstance(resources, list) else [resources]):
                assert actions(statement) <= allowed, (function_id, statement)


def test_functions_write_only_their_own_logs(assembly: CloudAssembly) -> None:
    for function_id, function in assembly.resources("AWS::Lambda::Function").items():
        (log_group,) = set(references(function["Properties"]["LoggingConfig"]["LogGroup"]))
        granted = grants(assembly, function_id, "logs")
        assert granted == {log_group: {"logs:CreateLogStream", "logs:PutLogEvents"}}
        role = assembly.template["Resources"][assembly.role_of(function_id)]["Properties"]
        assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole (logs:* on *)
