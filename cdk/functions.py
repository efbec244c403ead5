"""One Lambda function per route, granted exactly what its route declares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from licensing_core.routes import Route

from cdk.layers import ARCHITECTURE, RUNTIME
from cdk.paths import ASSET_EXCLUDE, FUNCTIONS_DIR
from cdk.signing import SigningKey
from cdk.tables import Tables, pascal

HANDLER = "handler.handler"
MEMORY_MB = 512
TIMEOUT = Duration.seconds(10)
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


class Functions(Construct):
    """A function per route: code from ``functions/<route.function>/``, both layers, the
    shared environment, and least-privilege grants from ``route.tables`` and
    ``route.signing_key``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Iterable[Route],
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        tables: Tables,
        signing_key: SigningKey,
    ) -> None:
        super().__init__(scope, construct_id)
        #: ``route.function`` -> its Lambda function.
        self.by_function: dict[str, lambda_.Function] = {}
        for route in routes:
            if route.function in self.by_function:
                raise ValueError(f"two routes share functions/{route.function}")
            function = self._function(route, layers, environment)
            for name, access in route.tables:
                if name not in tables.by_name:
                    raise KeyError(f"{route.route_key}: no model stores table {name!r}")
                table = tables.by_name[name]
                if access == "write":
                    table.grant_read_write_data(function)
                else:
                    table.grant_read_data(function)
            if route.signing_key is not None:
                signing_key.grant(function, route.signing_key)
            self.by_function[route.function] = function

    def _function(
        self,
        route: Route,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
    ) -> lambda_.Function:
        construct_id = pascal(route.function)
        code_dir = FUNCTIONS_DIR / route.function
        if not code_dir.is_dir():
            raise FileNotFoundError(f"{route.route_key}: no folder {code_dir}")
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        return lambda_.Function(
            self,
            construct_id,
            description=f"{route.route_key}: {route.summary}"[:256],
            code=lambda_.Code.from_asset(str(code_dir), exclude=list(ASSET_EXCLUDE)),
            handler=HANDLER,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            layers=list(layers),
            memory_size=MEMORY_MB,
            timeout=TIMEOUT,
            tracing=lambda_.Tracing.ACTIVE,
            environment=dict(environment),
            log_group=log_group,
        )
