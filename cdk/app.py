"""CDK entry point (``cdk.json``: ``python3 cdk/app.py``); also runs on its own.

Optional context (``cdk synth -c key=value``); lists are comma-separated:

- ``stage``: suffix of the stack name, ``LicensingStack-<stage>``; none: ``LicensingStack``.
- ``issuer``: ``iss`` of the tokens the service signs (default ``https://<domainName>``,
  else ``urn:licensing:<stack>``; see :class:`cdk.service.LicensingServiceProps`).
- ``corsAllowOrigins``: origins allowed by CORS (default ``*``).
- ``logLevel``: the functions' log level (default ``INFO``).
- Signing key (default: a new KMS key): ``kmsKeyArn`` (an existing KMS key), or
  ``azureKeyId`` + ``azureCredentialsSecretArn`` (+ ``azureCredentialsKeyArn``).
- Identity provider (default: a new Cognito user pool; ``cognitoDomainPrefix``):
  ``userPoolId`` + ``userPoolClientIds`` (+ ``userPoolRegion``), or ``oidcIssuer`` +
  ``oidcJwksUrl`` + ``oidcAudiences``.
- ``domainName`` + ``certificateArn``: serve the API on a custom domain.
- ``claimExpirySchedule``: an EventBridge schedule expression (default ``rate(1 hour)``).
- ``logRetentionDays``: of function and access logs (default 30).
- ``dataRemovalPolicy``: ``retain`` (default) or ``destroy`` (disposable stages).
- ``alarmEmails``: addresses subscribed to the alarm topic.
- ``console``: ``false`` leaves the web console out (CloudFront, S3, its Cognito client).
- ``nag``: ``false`` skips the cdk-nag AWS Solutions checks (run by default when
  cdk-nag is installed; any unacknowledged finding fails the synth).

Run directly, it reads the context of ``cdk.json`` itself (the CLI passes it
otherwise) and writes the assembly to ``$CDK_OUTDIR`` or ``cdk.out``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
# An entry-point script: import ``cdk`` as a package from the repository root (not this
# folder's modules as top-level ones), and ``licensing_core`` from its layer.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
for _path in (ROOT / "layers" / "licensing_core" / "python", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from aws_cdk import App, RemovalPolicy, Tags  # noqa: E402
from aws_cdk import aws_events as events  # noqa: E402
from aws_cdk import aws_logs as logs  # noqa: E402

from cdk.api import CustomDomain  # noqa: E402
from cdk.identity import ExistingUserPool, IdentitySource, NewUserPool, OidcIssuer  # noqa: E402
from cdk.nag import apply_checks  # noqa: E402
from cdk.service import LicensingServiceProps  # noqa: E402
from cdk.signing import AzureKeyVaultKey, ExistingKmsKey, NewKmsKey, SigningKeySource  # noqa: E402
from cdk.stack import SERVICE_NAME, LicensingStack  # noqa: E402

STACK_NAME = "LicensingStack"
_REMOVAL_POLICIES = {"retain": RemovalPolicy.RETAIN, "destroy": RemovalPolicy.DESTROY}


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` block of ``cdk.json`` (feature flags); CLI context overrides it."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    return context


def build_app(outdir: str | None = None) -> App:
    """The app with its one stack, configured from context, checked by cdk-nag."""
    app = App(
        context=cdk_json_context(),
        outdir=outdir or os.environ.get("CDK_OUTDIR") or str(ROOT / "cdk.out"),
    )
    stage = _context(app, "stage")
    stack = LicensingStack(
        app,
        f"{STACK_NAME}-{stage}" if stage else STACK_NAME,
        description="Serverless, identity-first licensing service",
        props=props_from_context(app),
        alarm_emails=_list(_context(app, "alarmEmails") or []),
    )
    Tags.of(stack).add("service", SERVICE_NAME)
    if stage:
        Tags.of(stack).add("stage", stage)
    if str(_context(app, "nag") or "true").lower() != "false":
        apply_checks(app)
    return app


def props_from_context(app: App) -> LicensingServiceProps:
    """The service's props from the app's context (defaults where a key is absent)."""
    values: dict[str, Any] = {
        "issuer": _context(app, "issuer"),
        "signing": _signing(app),
        "identity": _identity(app),
        "cors_origins": tuple(_list(_context(app, "corsAllowOrigins") or "*")),
        "log_level": _context(app, "logLevel") or "INFO",
    }
    if _context(app, "domainName"):
        values["domain"] = CustomDomain(
            _context(app, "domainName"), _required(app, "certificateArn", "domainName")
        )
    if _context(app, "claimExpirySchedule"):
        values["claim_expiry_schedule"] = events.Schedule.expression(
            _context(app, "claimExpirySchedule")
        )
    if _context(app, "logRetentionDays"):
        days = int(_context(app, "logRetentionDays"))
        values["log_retention"] = logs.RetentionDays(days)
    if _context(app, "dataRemovalPolicy"):
        values["data_removal_policy"] = _REMOVAL_POLICIES[_context(app, "dataRemovalPolicy")]
    if str(_context(app, "console") or "true").lower() == "false":
        values["console"] = None
    return LicensingServiceProps(**values)


def _signing(app: App) -> SigningKeySource:
    if _context(app, "azureKeyId"):
        return AzureKeyVaultKey(
            _context(app, "azureKeyId"),
            _required(app, "azureCredentialsSecretArn", "azureKeyId"),
            _context(app, "azureCredentialsKeyArn"),
        )
    if _context(app, "kmsKeyArn"):
        return ExistingKmsKey(_context(app, "kmsKeyArn"))
    return NewKmsKey()


def _identity(app: App) -> IdentitySource:
    if _context(app, "userPoolId"):
        return ExistingUserPool(
            _context(app, "userPoolId"),
            tuple(_list(_required(app, "userPoolClientIds", "userPoolId"))),
            _context(app, "userPoolRegion"),
        )
    if _context(app, "oidcIssuer"):
        return OidcIssuer(
            _context(app, "oidcIssuer"),
            _required(app, "oidcJwksUrl", "oidcIssuer"),
            tuple(_list(_required(app, "oidcAudiences", "oidcIssuer"))),
        )
    return NewUserPool(_context(app, "cognitoDomainPrefix"))


def _context(app: App, key: str) -> Any:
    return app.node.try_get_context(key)


def _required(app: App, key: str, because: str) -> Any:
    value = _context(app, key)
    if not value:
        raise SystemExit(f"context {because!r} needs {key!r} too")
    return value


def _list(value: str | list[str]) -> list[str]:
    """A list from a comma-separated string (``-c``) or a JSON list (``cdk.json``)."""
    items = value.split(",") if isinstance(value, str) else value
    return [item.strip() for item in items if item.strip()]


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
