"""Variant stacks of ``LicensingService``: the configurations the sample app does not use.

Synthesized in-process, once per run, into one small app: bundling is off (context
``aws:cdk:bundling-stacks: []``), so is CloudFormation schema validation (the app's
synth does it), the functions are fake folders under a temporary directory, and
cdk-nag runs on it as on the real app.

- ``Azure``: Azure Key Vault signer, new user pool with a post-confirmation trigger,
  custom domain, a scheduled job (and one whose folder is missing), disposable data,
  the console without a build.
- ``Oidc``: existing KMS key, a foreign OIDC issuer (no Cognito at all).
- ``Pool``: an existing Cognito user pool in another region; no alarms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from licensing_core.routes import Access, Route

from tests.infra.cloud_assembly import CloudAssembly

KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:licensing/azure-AbC123"
SECRET_KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0000abcd-12ab-34cd-56ef-1234567890ab"
AZURE_KEY_ID = "https://acme.vault.azure.net/keys/licensing/0123456789abcdef"
CERTIFICATE_ARN = (
    "arn:aws:acm:eu-west-1:111122223333:certificate/12345678-1234-1234-1234-123456789012"
)
DOMAIN = "licensing.example.com"
POOL_ID = "eu-central-1_AbCdEf123"
POOL_REGION = "eu-central-1"
OIDC_ISSUER = "https://login.example.com/tenant"
OIDC_JWKS = "https://login.example.com/tenant/keys"


@dataclass(frozen=True)
class IdentityAdminRoute(Route):
    """A route that creates, looks up, disables and enables users."""

    identity_provider: str | None = "admin"  # type: ignore[assignment]  # a Literal there


@dataclass(frozen=True)
class ReadUsersRoute(Route):
    """A route that only looks users up in the identity provider."""

    identity_provider: str | None = "read"  # type: ignore[assignment]  # a Literal there


ROUTES: tuple[Route, ...] = (
    Route("GET", "/ping", "ping", "Public ping", Access.PUBLIC),
    Route(
        "POST",
        "/sign",
        "sign",
        "Sign something",
        Access.APPLICATION,
        tables=(("licenses", "write"), ("products", "read")),
        signing_key="sign",
    ),
    Route("GET", "/keys", "keys", "Publish keys", Access.PUBLIC, signing_key="verify"),
    IdentityAdminRoute(
        "POST", "/users", "invite", "Invite a user", Access.ADMIN, tables=(("customers", "write"),)
    ),
    Route(
        "POST",
        "/quiet",
        "quiet",
        "Write without events",
        Access.ADMIN,
        tables=(("audit", "write"),),
    ),
    Route("GET", "/read", "read", "Read only", Access.END_USER, tables=(("licenses", "read"),)),
    ReadUsersRoute("GET", "/whoami", "whoami", "Look a user up", Access.END_USER),
)
FUNCTIONS = (*(route.function for route in ROUTES), "fake_job", "provision_identity")


@dataclass(frozen=True)
class Variants:
    azure: CloudAssembly
    oidc: CloudAssembly
    pool: CloudAssembly
    functions_dir: Path


def synthesize_variants(root: Path) -> Variants:
    from aws_cdk import App, Duration, RemovalPolicy, Stack
    from aws_cdk import aws_events as events
    from aws_cdk import aws_logs as logs

    from cdk.app import cdk_json_context
    from cdk.nag import apply_checks
    from cdk.service import (
        AzureKeyVaultKey,
        ConsoleProps,
        CustomDomain,
        ExistingKmsKey,
        ExistingUserPool,
        LicensingService,
        LicensingServiceProps,
        NewUserPool,
        OidcIssuer,
        ScheduledJob,
    )

    functions_dir = root / "functions"
    for name in FUNCTIONS:
        (functions_dir / name).mkdir(parents=True)
        (functions_dir / name / "handler.py").write_text("def handler(event, context): ...\n")
    jobs = (
        ScheduledJob(
            function="fake_job",
            description="Scheduled: a fake job",
            schedule=events.Schedule.rate(Duration.minutes(15)),
            tables=(("claims", "write"), ("products", "read")),
        ),
        ScheduledJob(
            function="not_written_yet",
            description="Scheduled: no folder",
            schedule=events.Schedule.rate(Duration.hours(1)),
        ),
    )
    app = App(
        context={**cdk_json_context(), "aws:cdk:bundling-stacks": []},
        outdir=str(root / "cdk.out"),
        # The app's own synth validates the same resource types against their schemas.
        builtin_cloud_formation_validation=False,
        tree_metadata=False,
        analytics_reporting=False,
    )
    common = LicensingServiceProps(routes=ROUTES, functions_dir=functions_dir, jobs=())
    LicensingService(
        Stack(app, "Azure"),
        "Licensing",
        replace(
            common,
            jobs=jobs,
            signing=AzureKeyVaultKey(AZURE_KEY_ID, SECRET_ARN, SECRET_KEY_ARN),
            identity=NewUserPool(domain_prefix="acme-licensing", self_sign_up=True),
            domain=CustomDomain(DOMAIN, CERTIFICATE_ARN),
            # Synthesized without a build of the console: a placeholder, and a warning.
            console=ConsoleProps(
                assets_dir=root / "console-not-built", extra_origins=("http://localhost:5173",)
            ),
            data_removal_policy=RemovalPolicy.DESTROY,
            log_retention=logs.RetentionDays.ONE_WEEK,
            event_archive_retention=None,
        ),
    )
    LicensingService(
        Stack(app, "Oidc"),
        "Licensing",
        replace(
            common,
            signing=ExistingKmsKey(KEY_ARN),
            identity=OidcIssuer(OIDC_ISSUER, OIDC_JWKS, ("api://licensing",)),
        ),
    )
    LicensingService(
        Stack(app, "Pool"),
        "Licensing",
        replace(
            common,
            identity=ExistingUserPool(POOL_ID, ("client-a", "client-b"), POOL_REGION),
            alarms=False,
        ),
    )
    apply_checks(app)
    outdir = Path(app.synth().directory)
    return Variants(
        azure=CloudAssembly(outdir, "Azure"),
        oidc=CloudAssembly(outdir, "Oidc"),
        pool=CloudAssembly(outdir, "Pool"),
        functions_dir=functions_dir,
    )
