"""The HTTP API: a route per route-table row, JWT-guarded where a bearer is required."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from licensing_core.routes import Access, Route

from cdk.identity import Identity
from cdk.tables import pascal

#: Routes whose caller must present an OIDC bearer, checked at the edge by the JWT
#: authorizer; the function still checks groups, tenant and step-up.
BEARER_ACCESS = frozenset({Access.ADMIN, Access.END_USER})

#: One JSON object per request, with HTTP API context variables (all strings: a
#: missing value is ``-``).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "method": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "subject": "$context.authorizer.claims.sub",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))


class Api(Construct):
    """HTTP API (payload format 2.0) with CORS, access logs and a Cognito JWT authorizer."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Sequence[Route],
        functions: Mapping[str, lambda_.IFunction],
        identity: Identity,
        cors_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=Stack.of(self).stack_name,
            description="Licensing service API",
            create_default_stage=False,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=list(cors_origins),
                allow_methods=sorted(
                    {apigwv2.CorsHttpMethod[route.method] for route in routes},
                    key=lambda method: method.value,
                ),
                allow_headers=["authorization", "content-type"],
                expose_headers=["location", "retry-after", "www-authenticate"],
                max_age=Duration.hours(1),
            ),
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.RETAIN,  # who called what outlives the stack
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            auto_deploy=True,
            access_log_settings=_AccessLogSettings(self.access_logs),
        )
        self.authorizer = authorizers.HttpJwtAuthorizer(
            "Cognito",
            identity.issuer,
            jwt_audience=identity.audiences,
            authorizer_name="cognito",
        )
        for route in routes:
            name = pascal(route.function)
            apigwv2.HttpRoute(
                self,
                f"{name}Route",
                http_api=self.http_api,
                route_key=apigwv2.HttpRouteKey.with_(route.path, apigwv2.HttpMethod[route.method]),
                integration=integrations.HttpLambdaIntegration(
                    f"{name}Integration",
                    functions[route.function],
                    payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
                ),
                authorizer=self.authorizer if route.access in BEARER_ACCESS else None,
            )
