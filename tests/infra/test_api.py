"""The HTTP API: a route per route-table row, guarded at the edge where a bearer is needed."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template
from licensing_core.routes import ROUTES, Access, Route

from cdk.api import DEFAULT_THROTTLE, ROUTE_THROTTLES
from tests.infra.cloud_assembly import CloudAssembly, references

routes = pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.route_key)
BEARER = {Access.ADMIN, Access.END_USER}


def test_the_api_routes_are_the_route_table(assembly: CloudAssembly, template: Template) -> None:
    keys = [
        route["Properties"]["RouteKey"]
        for route in assembly.resources("AWS::ApiGatewayV2::Route").values()
    ]
    assert sorted(keys) == sorted(route.route_key for route in ROUTES)
    template.has_resource_properties("AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"})


@routes
def test_route_key_and_lambda_proxy_integration(assembly: CloudAssembly, route: Route) -> None:
    api = assembly.the("AWS::ApiGatewayV2::Api")
    assert assembly.route(route.route_key)["ApiId"] == {"Ref": api}
    (integration_id,) = set(references(assembly.route(route.route_key)["Target"]))
    integration = assembly.properties(integration_id)
    assert integration["PayloadFormatVersion"] == "2.0"
    function_id = assembly.function_of(route.route_key)
    assert assembly.template["Resources"][function_id]["Type"] == "AWS::Lambda::Function"


@routes
def test_api_gateway_may_invoke_the_routes_function(assembly: CloudAssembly, route: Route) -> None:
    function_id = assembly.function_of(route.route_key)
    permissions = [
        permission
        for permission in assembly.resources("AWS::Lambda::Permission").values()
        if function_id in set(references(permission["Properties"]["FunctionName"]))
    ]
    assert permissions
    for permission in permissions:
        assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
        assert permission["Properties"]["Action"] == "lambda:InvokeFunction"


@routes
def test_bearer_routes_and_only_they_use_the_jwt_authorizer(
    assembly: CloudAssembly, route: Route
) -> None:
    properties = assembly.route(route.route_key)
    if route.access in BEARER:
        assert properties["AuthorizationType"] == "JWT"
        assert properties["AuthorizerId"] == {"Ref": assembly.the("AWS::ApiGatewayV2::Authorizer")}
    else:
        assert properties.get("AuthorizationType", "NONE") == "NONE"
        assert "AuthorizerId" not in properties


def test_jwt_authorizer_trusts_the_user_pool_and_its_clients(assembly: CloudAssembly) -> None:
    authorizer = assembly.properties(assembly.the("AWS::ApiGatewayV2::Authorizer"))
    pool = assembly.the("AWS::Cognito::UserPool")
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    configuration = authorizer["JwtConfiguration"]
    assert configuration["Issuer"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [pool, "ProviderURL"]}]]
    }
    clients = assembly.resources("AWS::Cognito::UserPoolClient")
    assert sorted(references(configuration["Audience"])) == sorted(clients)


def test_throttles_are_per_route_with_a_default(assembly: CloudAssembly) -> None:
    stage = assembly.properties(assembly.the("AWS::ApiGatewayV2::Stage"))
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": DEFAULT_THROTTLE.rate_limit,
        "ThrottlingBurstLimit": DEFAULT_THROTTLE.burst_limit,
    }
    settings = stage.get("RouteSettings", {})
    for route in ROUTES:
        throttle = ROUTE_THROTTLES.get(route.function)
        if throttle is None:
            assert route.route_key not in settings
        else:
            assert settings[route.route_key] == {
                "ThrottlingRateLimit": throttle.rate_limit,
                "ThrottlingBurstLimit": throttle.burst_limit,
            }
    # Route settings name routes that must exist first.
    depends_on = assembly.template["Resources"][assembly.the("AWS::ApiGatewayV2::Stage")].get(
        "DependsOn", []
    )
    routes = {
        properties["Properties"]["RouteKey"]: logical_id
        for logical_id, properties in assembly.resources("AWS::ApiGatewayV2::Route").items()
    }
    assert {routes[key] for key in settings} <= set(depends_on)


def test_what_callers_trigger_cheaply_is_throttled_tighter_than_heartbeats() -> None:
    heartbeat = ROUTE_THROTTLES["heartbeat"]
    for function in ("activate", "register", "claim_license"):
        assert ROUTE_THROTTLES[function].rate_limit < heartbeat.rate_limit
        assert ROUTE_THROTTLES[function].burst_limit < heartbeat.burst_limit
        assert ROUTE_THROTTLES[function].rate_limit <= DEFAULT_THROTTLE.rate_limit


def test_cors_lets_browsers_send_bearers_and_keys_and_read_challenges(template: Template) -> None:
    """A browser's preflight of an idempotent route (activate, usage) names Idempotency-Key."""
    methods = sorted({route.method for route in ROUTES})
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {
            "CorsConfiguration": Match.object_like(
                {
                    "AllowMethods": methods,
                    "AllowHeaders": ["authorization", "content-type", "idempotency-key"],
                    "ExposeHeaders": Match.array_with(["www-authenticate"]),
                }
            )
        },
    )


def test_default_stage_deploys_automatically_and_logs_access(assembly: CloudAssembly) -> None:
    stage = assembly.properties(assembly.the("AWS::ApiGatewayV2::Stage"))
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    settings = stage["AccessLogSettings"]
    (log_group,) = set(references(settings["DestinationArn"]))
    assert assembly.template["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup"
    assert assembly.properties(log_group)["RetentionInDays"] > 0
    fields = json.loads(settings["Format"])
    assert {"requestId", "routeKey", "status"} <= set(fields)
