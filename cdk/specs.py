"""What a Lambda function is granted and how it is invoked, as plain declarations.

HTTP routes come from the route table (``licensing_core.routes.ROUTES``), scheduled
jobs from its ``JOBS`` (or, while it has none, the claim-expiry job declared here),
identity-provider triggers from here. A declared job or trigger whose folder
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
#: Cognito waits at most 5 s for a trigger.
TRIGGER_TIMEOUT = Duration.seconds(5)
DEFAULT_CLAIM_EXPIRY_SCHEDULE = events.Schedule.rate(Duration.hours(1))

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
    #: May put lifecycle events on the bus; None: when it writes a table (mutations emit).
    events: bool | None = None
    #: Gets the OIDC settings to verify bearer tokens (HTTP routes).
    verifies_bearers: bool = False
    timeout: Duration = ROUTE_TIMEOUT

    @property
    def writes(self) -> bool:
        return any(access == "write" for _, access in self.tables)

    @property
    def emits_events(self) -> bool:
        return self.writes if self.events is None else self.events


def route_spec(route: Route) -> FunctionSpec:
    """The function behind an HTTP route, as the route table declares it (``events`` and
    ``identity_provider`` are read when the table has them)."""
    return FunctionSpec(
        function=route.function,
        description=f"{route.route_key}: {route.summary}",
        tables=route.tables,
        signing_key=route.signing_key,
        identity_provider=getattr(route, "identity_provider", None),
        events=getattr(route, "events", None),
        verifies_bearers=True,
    )


@dataclass(frozen=True, kw_only=True)
class ScheduledJob(FunctionSpec):
    """A function an EventBridge rule invokes on a schedule."""

    schedule: events.Schedule
    timeout: Duration = JOB_TIMEOUT


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


def claim_expiry_job(schedule: events.Schedule = DEFAULT_CLAIM_EXPIRY_SCHEDULE) -> ScheduledJob:
    """Expire pending license claims that were not fulfilled in time (used when the route
    table declares no jobs)."""
    return ScheduledJob(
        function=CLAIM_EXPIRY,
        description="Scheduled: expire pending license claims",
        schedule=schedule,
        tables=(("claims", "write"), ("audit", "write")),
    )


def default_jobs(
    claim_expiry_schedule: events.Schedule | None = None,
) -> tuple[ScheduledJob, ...]:
    """The jobs of the route table's ``JOBS`` when it has them, else the claim-expiry job;
    ``claim_expiry_schedule`` replaces the claim-expiry job's schedule."""
    declared = getattr(route_table, "JOBS", None)
    if declared is None:
        return (claim_expiry_job(claim_expiry_schedule or DEFAULT_CLAIM_EXPIRY_SCHEDULE),)
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
            signing_key=getattr(job, "signing_key", None),
            identity_provider=getattr(job, "identity_provider", None),
            events=getattr(job, "events", None),
        )
        for job in declared
    )


#: Creates the customer record of a user who confirmed their account, and provisions
#: their license when the tenant's policy says so.
PROVISION_IDENTITY = IdentityTrigger(
    function="provision_identity",
    description="Cognito post-confirmation: create the identity, provision its license",
    operation="post_confirmation",
    tables=(
        ("products", "read"),
        ("features", "read"),
        ("tiers", "read"),
        ("tenants", "read"),
        ("customers", "write"),
        ("uniques", "write"),
        ("licenses", "write"),
        ("audit", "write"),
    ),
    signing_key="sign",
)
DEFAULT_TRIGGERS: tuple[IdentityTrigger, ...] = (PROVISION_IDENTITY,)


def unique(specs: Sequence[FunctionSpec]) -> None:
    """Refuse two declarations of the same function folder."""
    seen: set[str] = set()
    for spec in specs:
        if spec.function in seen:
            raise ValueError(f"functions/{spec.function} is declared twice")
        seen.add(spec.function)
