"""``LicensingService``: the whole licensing service as one construct, for a vendor's own
CDK app.

    from cdk.service import LicensingService, LicensingServiceProps, ExistingKmsKey

    service = LicensingService(
        stack,
        "Licensing",
        LicensingServiceProps(signing=ExistingKmsKey("arn:aws:kms:...:key/...")),
    )
    service.api.url, service.event_bus.event_bus_name, service.identity.issuer ...

It builds, from the route table and the stored models: the DynamoDB tables, the
identity provider wiring, the signing key, both Lambda layers, a function per route
(and per scheduled job, stream consumer and identity trigger whose folder exists), the
HTTP API with its JWT authorizer and per-route throttling, the lifecycle event bus and
its publisher on the audit table's stream (the outbox), the schedules, and the
dashboard and alarms. The props are plain frozen dataclasses (no jsii
struct), every field with a production default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from aws_cdk import Annotations, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct
from licensing_core.routes import ROUTES, Route
from licensing_core.settings import PREFIX
from licensing_core.telemetry import NAMESPACE

from cdk.api import DEFAULT_THROTTLE, ROUTE_THROTTLES, Api, CustomDomain, Throttle
from cdk.console import Console, ConsoleProps, ExternalSignIn
from cdk.functions import Functions
from cdk.identity import (
    ExistingUserPool,
    Identity,
    IdentitySource,
    NewUserPool,
    OidcIssuer,
)
from cdk.layers import RUNTIME_ENVIRONMENT, Layers
from cdk.monitoring import AlarmThresholds, Monitoring
from cdk.paths import FUNCTIONS_DIR
from cdk.signing import (
    AzureKeyVaultKey,
    ExistingKmsKey,
    NewKmsKey,
    SigningKey,
    SigningKeySource,
)
from cdk.specs import (
    DEFAULT_CONSUMERS,
    DEFAULT_TRIGGERS,
    FunctionSpec,
    IdentityTrigger,
    ScheduledJob,
    StreamConsumerSpec,
    default_jobs,
    route_spec,
)
from cdk.streams import StreamConsumers
from cdk.tables import Tables, pascal

SERVICE_NAME = "licensing"
SpecT = TypeVar("SpecT", bound=FunctionSpec)

__all__ = [
    "AlarmThresholds",
    "AzureKeyVaultKey",
    "ConsoleProps",
    "CustomDomain",
    "ExistingKmsKey",
    "ExistingUserPool",
    "ExternalSignIn",
    "IdentityTrigger",
    "LicensingService",
    "LicensingServiceProps",
    "NewKmsKey",
    "NewUserPool",
    "OidcIssuer",
    "ScheduledJob",
    "Throttle",
]


@dataclass(frozen=True, kw_only=True)
class LicensingServiceProps:
    """How to deploy the service; every field has a production default."""

    #: ``iss`` of the tokens the service signs. Default: ``https://<domain>`` with a
    #: custom domain, else ``urn:licensing:<stack name>`` (not the API's URL: the
    #: functions would depend on the API that depends on them). Stable forever:
    #: changing it invalidates every issued token.
    issuer: str | None = None
    signing: SigningKeySource = NewKmsKey()  # noqa: RUF009 - frozen, immutable
    identity: IdentitySource = NewUserPool()  # noqa: RUF009 - frozen, immutable
    domain: CustomDomain | None = None
    #: When the scheduled claim-expiry job runs; default: as the route table says
    #: (hourly).
    claim_expiry_schedule: events.Schedule | None = None
    #: Scheduled jobs; default: the route table's, claim expiry on ``claim_expiry_schedule``.
    jobs: Sequence[ScheduledJob] | None = None
    #: Consumers of tables' streams; default: the route table's (the event publisher).
    consumers: Sequence[StreamConsumerSpec] = DEFAULT_CONSUMERS
    #: Identity-provider triggers (wired only to a user pool the construct creates).
    triggers: Sequence[IdentityTrigger] = DEFAULT_TRIGGERS
    #: HTTP routes; default: the route table.
    routes: Sequence[Route] = ROUTES
    #: Where ``<function>/handler.py`` folders live.
    functions_dir: Path = FUNCTIONS_DIR
    #: Retention of function and API access logs.
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    #: Tables, user pool, signing key, access logs: RETAIN (and deletion protection)
    #: unless the deployment is disposable.
    data_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    #: Origins whose pages may call the API (the console's is added to a list without ``*``).
    cors_origins: Sequence[str] = ("*",)
    #: The web console (CloudFront, S3, a Cognito client); None leaves it out.
    console: ConsoleProps | None = ConsoleProps()  # noqa: RUF009 - frozen, immutable
    log_level: str = "INFO"
    #: Per-function throttles (route table ``function`` -> throttle), over the defaults.
    throttles: Mapping[str, Throttle] = field(default_factory=dict)
    default_throttle: Throttle = DEFAULT_THROTTLE
    #: Alarm notifications (and OK notifications) go to this topic, if any.
    alarm_topic: sns.ITopic | None = None
    alarm_thresholds: AlarmThresholds = AlarmThresholds()  # noqa: RUF009 - frozen, immutable
    #: False: the dashboard without alarms (they are billed per metric read).
    alarms: bool = True
    #: How long the event bus keeps events for replay; None: no archive.
    event_archive_retention: Duration | None = Duration.days(30)  # noqa: RUF009


class LicensingService(Construct):
    """The licensing service: see the module docstring."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        props: LicensingServiceProps = LicensingServiceProps(),
    ) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        unknown = set(props.throttles) - {route.function for route in props.routes}
        if unknown:
            raise ValueError(f"throttles for functions no route serves: {sorted(unknown)}")
        self.issuer = props.issuer or (
            f"https://{props.domain.domain_name}"
            if props.domain
            else f"urn:licensing:{Stack.of(self).stack_name}"
        )
        data_policy = props.data_removal_policy
        self.tables = Tables(self, "Tables", removal_policy=data_policy)
        self.identity = Identity(
            self, "Identity", source=props.identity, removal_policy=data_policy
        )
        self.signing_key = SigningKey(
            self, "Signing", source=props.signing, removal_policy=data_policy
        )
        self.event_bus = events.EventBus(
            self, "EventBus", description="Lifecycle events of the licensing service"
        )
        if props.event_archive_retention is not None:
            self.event_bus.archive(
                "Archive",
                description="Every lifecycle event, for replay",
                event_pattern=events.EventPattern(source=[SERVICE_NAME]),
                retention=props.event_archive_retention,
            )
        #: Before the functions and the API: its client is one of their audiences.
        self.console = self._console(props.console)
        self.layers = Layers(self, "Layers")
        self.jobs = self._present(
            default_jobs(props.claim_expiry_schedule) if props.jobs is None else props.jobs
        )
        self.consumers = self._present(props.consumers)
        self.triggers = self._triggers(props.triggers)
        specs: list[FunctionSpec] = [route_spec(route) for route in props.routes]
        self.functions = Functions(
            self,
            "Functions",
            specs=[*specs, *self.jobs, *self.consumers, *self.triggers],
            functions_dir=props.functions_dir,
            layers=self.layers.all,
            environment=self._environment(),
            bearer_environment=self._bearer_environment(),
            tables=self.tables,
            signing_key=self.signing_key,
            identity=self.identity,
            event_bus=self.event_bus,
            log_retention=props.log_retention,
        )
        self.api = Api(
            self,
            "Api",
            routes=props.routes,
            functions=self.functions.by_function,
            identity=self.identity,
            cors_origins=self._cors_origins(),
            throttles={**ROUTE_THROTTLES, **props.throttles},
            default_throttle=props.default_throttle,
            domain=props.domain,
            access_log_retention=props.log_retention,
        )
        self.api.access_logs.apply_removal_policy(data_policy)
        if self.console is not None:
            self.console.deploy(self.api.url)
        #: Job function name -> its schedule rule.
        self.schedules: dict[str, events.Rule] = {}
        for job in self.jobs:
            self.schedules[job.function] = events.Rule(
                self,
                f"{pascal(job.function)}Schedule",
                description=job.description[:512],
                schedule=job.schedule,
                targets=[
                    targets.LambdaFunction(
                        self.functions.by_function[job.function],
                        retry_attempts=2,
                        max_event_age=Duration.hours(1),
                    )
                ],
            )
        self.streams = StreamConsumers(
            self,
            "Streams",
            consumers=self.consumers,
            functions=self.functions.by_function,
            tables=self.tables,
        )
        for trigger in self.triggers:
            self.identity.add_trigger(
                trigger.operation, self.functions.by_function[trigger.function]
            )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            stage=self.api.stage,
            functions=self.functions.by_function,
            tables=self.tables.by_name,
            dead_letters=self.streams.dead_letters,
            alarm_topic=props.alarm_topic,
            thresholds=props.alarm_thresholds,
            alarms=props.alarms,
        )

    @property
    def url(self) -> str:
        """The API's base URL."""
        return self.api.url

    def _console(self, props: ConsoleProps | None) -> Console | None:
        if props is None:
            return None
        if props.sign_in is None and self.identity.created_pool is None:
            Annotations.of(self).add_info(
                "console: not deployed; with a user pool or OIDC issuer this stack does not "
                "create, give ConsoleProps(sign_in=ExternalSignIn(...))"
            )
            return None
        domain = self.props.domain
        # The API's exact URL would make the console depend on the API that depends on it
        # (CORS, audiences): its CSP allows the region's API Gateway hosts instead.
        api_origin = (
            f"https://{domain.domain_name}"
            if domain
            else f"https://*.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"
        )
        console = Console(
            self, "Console", props=props, identity=self.identity, api_origins=[api_origin]
        )
        self.identity.audiences.append(console.client_id)
        return console

    def _cors_origins(self) -> list[str]:
        origins = list(self.props.cors_origins)
        if self.console is not None and "*" not in origins:
            origins.append(self.console.origin)
        return origins

    def _present(self, specs: Sequence[SpecT]) -> list[SpecT]:
        """The jobs whose folder exists; the others are noted and skipped."""
        present = []
        for spec in specs:
            if (self.props.functions_dir / spec.function).is_dir():
                present.append(spec)
            else:
                Annotations.of(self).add_info(
                    f"{spec.function}: no functions/{spec.function}/ yet, not deployed"
                )
        return present

    def _triggers(self, triggers: Sequence[IdentityTrigger]) -> list[IdentityTrigger]:
        if self.identity.created_pool is None:
            if triggers:
                Annotations.of(self).add_info(
                    "identity triggers need a user pool this stack creates: not deployed"
                )
            return []
        return self._present(triggers)

    def _environment(self) -> dict[str, str]:
        """What :meth:`licensing_core.settings.Settings.from_env` reads, for every function."""
        environment = {
            **RUNTIME_ENVIRONMENT,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": self.props.log_level,
            f"{PREFIX}ISSUER": self.issuer,
            **self.signing_key.environment(),
            **self.tables.environment(),
        }
        if self.props.domain is not None:
            environment[f"{PREFIX}PUBLIC_URL"] = f"https://{self.props.domain.domain_name}"
        return environment

    def _bearer_environment(self) -> dict[str, str]:
        """What HTTP routes' functions get beyond the common environment: how to verify OIDC
        bearers, where the registration page sends people (the console's portal). Not for
        triggers: the pool depends on them."""
        return {
            f"{PREFIX}OIDC_ISSUER": self.identity.issuer,
            f"{PREFIX}OIDC_JWKS_URL": self.identity.jwks_url,
            f"{PREFIX}OIDC_AUDIENCES": ",".join(self.identity.audiences),
            f"{PREFIX}ADMIN_GROUP": self.identity.admin_group_name,
            # Where the registration page sends people to claim (the console's portal).
            **({f"{PREFIX}PORTAL_URL": f"{self.console.url}portal/claim"} if self.console else {}),
        }
