"""One Lambda function per declaration (HTTP route, scheduled job, identity trigger),
granted exactly what the declaration says.

Each function has its own role: logs to its own log group, the tables of its
declaration (read-only ones get no write action), the signing key use it declares,
``events:PutEvents`` on the lifecycle bus for the outbox's publisher only, and the
identity-provider actions of its declared ``identity_provider`` use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from licensing_core.settings import PREFIX

from cdk import nag
from cdk.identity import Identity
from cdk.layers import ARCHITECTURE, RUNTIME
from cdk.paths import ASSET_EXCLUDE
from cdk.signing import SigningKey
from cdk.specs import FunctionSpec, IdentityTrigger, unique
from cdk.tables import Tables, pascal

HANDLER = "handler.handler"
MEMORY_MB = 512
EVENT_BUS_VAR = f"{PREFIX}EVENT_BUS"
USER_POOL_VAR = f"{PREFIX}COGNITO_USER_POOL_ID"


class InlineRole(iam.Role):
    """A role whose grants live in one inline policy of the role itself, not in a separate
    ``AWS::IAM::Policy``: with a function (and a role) per route, those policy resources
    alone would be a sixth of CloudFormation's 500-resource limit of a stack. The same
    statements, the same 10,240-character budget per role."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        self._grants = iam.PolicyDocument()
        super().__init__(scope, construct_id, inline_policies={"grants": self._grants}, **kwargs)

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        self._grants.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self)


class Functions(Construct):
    """A function per spec: code from ``<functions_dir>/<spec.function>/``, both layers,
    the shared environment (plus the OIDC settings where bearers are verified), and
    least-privilege grants."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        specs: Iterable[FunctionSpec],
        functions_dir: Path,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        bearer_environment: Mapping[str, str],
        tables: Tables,
        signing_key: SigningKey,
        identity: Identity,
        event_bus: events.IEventBus,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        specs = list(specs)
        unique(specs)
        self._functions_dir = functions_dir
        self._layers = list(layers)
        self._log_retention = log_retention
        #: ``spec.function`` -> its Lambda function.
        self.by_function: dict[str, lambda_.Function] = {}
        for spec in specs:
            if isinstance(spec, IdentityTrigger) and spec.identity_provider:
                raise ValueError(
                    f"{spec.function}: a trigger cannot be granted the pool that invokes it "
                    "(a dependency cycle); use the identity in the trigger's event"
                )
            role = InlineRole(
                self,
                f"{pascal(spec.function)}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"functions/{spec.function}",
            )
            env = dict(environment)
            if spec.verifies_bearers:
                env |= bearer_environment
            indexed = _grant_tables(spec, tables, role)
            if spec.signing_key is not None:
                env |= signing_key.grant(role, spec.signing_key)
            if spec.publishes_events:
                event_bus.grant_put_events_to(role)
                env[EVENT_BUS_VAR] = event_bus.event_bus_name
            if spec.identity_provider and identity.grant_provider(role, spec.identity_provider):
                assert identity.user_pool_id is not None
                env[USER_POOL_VAR] = identity.user_pool_id
            function = self._function(spec, role, env)
            nag.acknowledge_index_access(role, indexed)
            self.by_function[spec.function] = function

    def _function(
        self, spec: FunctionSpec, role: iam.Role, environment: Mapping[str, str]
    ) -> lambda_.Function:
        construct_id = pascal(spec.function)
        code_dir = self._functions_dir / spec.function
        if not code_dir.is_dir():
            raise FileNotFoundError(f"{spec.description}: no folder {code_dir}")
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=self._log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            construct_id,
            description=spec.description[:256],
            code=lambda_.Code.from_asset(str(code_dir), exclude=list(ASSET_EXCLUDE)),
            handler=HANDLER,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            layers=self._layers,
            memory_size=MEMORY_MB,
            timeout=spec.timeout,
            tracing=lambda_.Tracing.ACTIVE,
            environment=dict(environment),
            log_group=log_group,
            role=role,
        )
        nag.acknowledge(nag.default_child(function), "AwsSolutions-L1")
        # X-Ray's statement (Resource: *) is CDK's, for Tracing.ACTIVE
        nag.acknowledge(nag.default_child(role), "AwsSolutions-IAM5[Resource::*]")
        return function


def _grant_tables(spec: FunctionSpec, tables: Tables, role: iam.IGrantable) -> list[dynamodb.Table]:
    """Grant the spec's tables; return those with indexes (their grant spans ``index/*``)."""
    indexed = []
    for name, access in spec.tables:
        if name not in tables.by_name:
            raise KeyError(f"{spec.description}: no model stores table {name!r}")
        table = tables.by_name[name]
        if access == "write":
            table.grant_read_write_data(role)
        else:
            table.grant_read_data(role)
        if name in tables.indexed:
            indexed.append(table)
    return indexed
