"""What a Lambda function is granted and how it is invoked, as plain declarations.

HTTP routes come from the route table (``licensing_core.routes.ROUTES``), scheduled
jobs from its ``JOBS``, stream consumers from its ``CONSUMERS``, identity-provider
triggers from its ``TRIGGERS``. A declared
job or trigger whose folder
``functions/<function>/`` does not exist yet is skipped (with an info annotation), so it
can be declared before its handler is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import Duration
from aws_cdk import aws_events as events
from licensing_core import routes as route_table
from licensing_core.routes import KeyUse, Route, TableAccess

#: Under API Gateway's 30 s integration timeout, with room for a cold start.
ROUTE_TIMEOUT = Duration.seconds(10)
JOB_TIMEOUT = Duration.minutes(5)
#: A batch of at most 100 records, ten PutEvents calls.
STREAM_TIMEOUT = Duration.seconds(60)
#: Cognito waits at most 5 s for a trigger.
TRIGGER_TIMEOUT = Duration.seconds(5)

Tables = tuple[tuple[str, TableAccess], ...]


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    """One function: its folder, and exactly what it may touch."""

    #: Folder under ``functions/`` holding ``handler.py``; also names the function.
    function: str
    description: str
    #: Tables (logical names) and how: read-only functions get no write action.
    tables: Tables = ()
    signing_key: KeyUse | None = None
    #: What it asks of the identity provider (a key of ``IDENTITY_PROVIDER_ACTIONS``):
    #: ``read`` looks users up, ``invite`` also creates them, ``manage`` also disables
    #: and enables them, ``admin`` all of it. None: nothing.
    identity_provider: str | None = None
    #: May put lifecycle events on the bus: only the outbox's publisher does.
    publishes_events: bool = False
    #: Gets the OIDC settings to verify bearer tokens (HTTP routes).
    verifies_bearers: bool = False
    timeout: Duration = ROUTE_TIMEOUT

    @property
    def writes(self) -> bool:
        return any(access == "write" for _, access in self.tables)


def route_spec(route: Route) -> FunctionSpec:
    """The function behind an HTTP route, as the route table declares it."""
    return FunctionSpec(
        function=route.function,
        description=f"{route.route_key}: {route.summary}",
        tables=route.tables,
        signing_key=route.signing_key,
        identity_provider=route.identity_provider,
        verifies_bearers=True,
    )


@dataclass(frozen=True, kw_only=True)
class ScheduledJob(FunctionSpec):
    """A function an EventBridge rule invokes on a schedule."""

    schedule: events.Schedule
    timeout: Duration = JOB_TIMEOUT


@dataclass(frozen=True, kw_only=True)
class StreamConsumerSpec(FunctionSpec):
    """A function fed by a table's DynamoDB stream, in batches."""

    #: Logical name of the table whose stream feeds it.
    stream: str
    timeout: Duration = STREAM_TIMEOUT


#: The route table's stream consumers.
DEFAULT_CONSUMERS: tuple[StreamConsumerSpec, ...] = tuple(
    StreamConsumerSpec(
        function=consumer.function,
        description=f"Stream of {consumer.stream}: {consumer.summary}",
        stream=consumer.stream,
        tables=consumer.tables,
        publishes_events=consumer.publishes_events,
    )
    for consumer in route_table.CONSUMERS
)


TriggerOperation = Literal["post_confirmation", "pre_token_generation", "post_authentication"]


@dataclass(frozen=True, kw_only=True)
class IdentityTrigger(FunctionSpec):
    """A function the Cognito user pool invokes (only with a pool the stack creates).

    It never gets the pool's ids in its environment (the pool depends on the function);
    the event carries ``userPoolId``.
    """

    operation: TriggerOperation
    timeout: Duration = TRIGGER_TIMEOUT


CLAIM_EXPIRY = "expire_claims"


def default_jobs(
    claim_expiry_schedule: events.Schedule | None = None,
) -> tuple[ScheduledJob, ...]:
    """The route table's ``JOBS``; ``claim_expiry_schedule`` replaces the claim-expiry
    job's schedule."""
    return tuple(
        ScheduledJob(
            function=job.function,
            description=f"Scheduled: {job.summary}",
            schedule=(
                claim_expiry_schedule
                if claim_expiry_schedule is not None and job.function == CLAIM_EXPIRY
                else events.Schedule.expression(job.schedule)
            ),
            tables=tuple(job.tables),
        )
        for job in route_table.JOBS
    )


#: The route table's identity-provider triggers.
DEFAULT_TRIGGERS: tuple[IdentityTrigger, ...] = tuple(
    IdentityTrigger(
        function=trigger.function,
        description=trigger.summary,
        operation=trigger.operation,
        tables=trigger.tables,
        signing_key=trigger.signing_key,
    )
    for trigger in route_table.TRIGGERS
)


def unique(specs: Sequence[FunctionSpec]) -> None:
    """Refuse two declarations of the same function folder."""
    seen: set[str] = set()
    for spec in specs:
        if spec.function in seen:
            raise ValueError(f"functions/{spec.function} is declared twice")
        seen.add(spec.function)
