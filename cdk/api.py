"""The HTTP API: a route per route-table row, JWT-guarded where a bearer is required,
throttled per route, optionally on a custom domain."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from licensing_core.http.idempotency import HEADER as IDEMPOTENCY_HEADER
from licensing_core.routes import Access, Route

from cdk import nag
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


@dataclass(frozen=True)
class Throttle:
    """API Gateway token bucket for one route, across all callers: steady requests per
    second (``rate_limit``) and the bucket size (``burst_limit``)."""

    rate_limit: float
    burst_limit: int


#: Every route not listed in the mapping below.
DEFAULT_THROTTLE = Throttle(rate_limit=50, burst_limit=100)
#: Per function (route table ``function``): what anonymous or license-holding callers
#: can trigger is tighter (seats, identity invitations, signatures), the heartbeat that
#: every running machine sends hourly is looser. Functions not (yet) in the route
#: table are ignored.
ROUTE_THROTTLES: Mapping[str, Throttle] = MappingProxyType(
    {
        "activate": Throttle(rate_limit=20, burst_limit=40),
        "deactivate": Throttle(rate_limit=20, burst_limit=40),
        "register": Throttle(rate_limit=5, burst_limit=10),
        "claim_license": Throttle(rate_limit=5, burst_limit=10),
        "validate_license": Throttle(rate_limit=100, burst_limit=200),
        "report_usage": Throttle(rate_limit=100, burst_limit=200),
        "heartbeat": Throttle(rate_limit=200, burst_limit=400),
    }
)


@dataclass(frozen=True)
class CustomDomain:
    """Serve the API on ``domain_name`` with an ACM certificate of the stack's region;
    point a CNAME (or alias) at the output ``ApiDomainTarget``."""

    domain_name: str
    certificate_arn: str


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
        throttles: Mapping[str, Throttle] = ROUTE_THROTTLES,
        default_throttle: Throttle = DEFAULT_THROTTLE,
        domain: CustomDomain | None = None,
        access_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
    ) -> None:
        super().__init__(scope, construct_id)
        self.domain_name: apigwv2.DomainName | None = None
        if domain is not None:
            self.domain_name = apigwv2.DomainName(
                self,
                "DomainName",
                domain_name=domain.domain_name,
                certificate=acm.Certificate.from_certificate_arn(
                    self, "Certificate", domain.certificate_arn
                ),
            )
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
                # Idempotency-Key: browsers preflight it on the idempotent routes.
                allow_headers=["authorization", "content-type", IDEMPOTENCY_HEADER],
                expose_headers=["location", "retry-after", "www-authenticate"],
                max_age=Duration.hours(1),
            ),
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=access_log_retention,
            removal_policy=RemovalPolicy.RETAIN,  # who called what outlives the stack
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            auto_deploy=True,
            access_log_settings=_AccessLogSettings(self.access_logs),
            throttle=apigwv2.ThrottleSettings(
                rate_limit=default_throttle.rate_limit, burst_limit=default_throttle.burst_limit
            ),
            domain_mapping=(
                apigwv2.DomainMappingOptions(domain_name=self.domain_name)
                if self.domain_name
                else None
            ),
        )
        self.authorizer = authorizers.HttpJwtAuthorizer(
            "Jwt",
            identity.issuer,
            jwt_audience=identity.audiences,
            authorizer_name="oidc",
        )
        #: Route key -> its route, for settings and alarms.
        self.routes: dict[str, apigwv2.HttpRoute] = {}
        for route in routes:
            name = pascal(route.function)
            http_route = apigwv2.HttpRoute(
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
            if route.access not in BEARER_ACCESS:
                nag.acknowledge(nag.default_child(http_route), "AwsSolutions-APIG4")
            self.routes[route.route_key] = http_route
        self._throttle_routes(routes, throttles)

    def _throttle_routes(self, routes: Sequence[Route], throttles: Mapping[str, Throttle]) -> None:
        """Stage route settings for the routes whose function has its own throttle."""
        stage = nag.default_child(self.stage)
        settings = {}
        for route in routes:
            throttle = throttles.get(route.function)
            if throttle is None:
                continue
            settings[route.route_key] = {
                "ThrottlingRateLimit": throttle.rate_limit,
                "ThrottlingBurstLimit": throttle.burst_limit,
            }
            # Settings name route keys that must exist before the stage is updated.
            stage.node.add_dependency(self.routes[route.route_key])
        if settings:
            stage.add_property_override("RouteSettings", settings)

    @property
    def url(self) -> str:
        """The API's base URL: the custom domain's when there is one."""
        if self.domain_name is not None:
            return f"https://{self.domain_name.name}"
        url: str = self.stage.url
        return url
