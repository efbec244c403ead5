"""cdk-nag: the AWS Solutions checks, and the reasons we accept what they flag.

Acknowledgments use CDK's own ``Validations`` API (what cdk-nag 3 reads), so the
constructs need no cdk-nag import: a vendor embedding :class:`cdk.service.LicensingService`
gets the reasons along with the resources, and runs the checks if they want. Each
acknowledgment names one rule (for IAM5, one finding) on the one resource it is about.
"""

from __future__ import annotations

import sys
from typing import Any

from aws_cdk import Acknowledgment as _Acknowledgment
from aws_cdk import CfnResource, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import IConstruct

#: Why each acknowledged rule is acceptable here (one place, so reasons stay specific).
REASONS = {
    "AwsSolutions-APIG4": (
        "Deliberately unauthenticated at the edge: discovery documents, public pricing and "
        "registration are public; application routes authenticate in the function with "
        "the license key or activation clientId the application holds, which a JWT "
        "authorizer cannot verify."
    ),
    "AwsSolutions-COG2": (
        "MFA is optional (TOTP) so that service accounts and end users can sign in without "
        "a second factor; admin operations demand a recent strong authentication through "
        "the API's step-up policy (acr/amr, auth_time), which enforces MFA where it matters."
    ),
    "AwsSolutions-COG8": (
        "Essentials feature plan: the service needs access-token customization only; the "
        "Plus plan's threat protection is a per-user cost the vendor may opt into."
    ),
    "AwsSolutions-SQS3": (
        "This queue is itself a dead-letter queue: the records a stream consumer gave up "
        "on; its depth is alarmed."
    ),
    "AwsSolutions-L1": (
        "python3.11 is the runtime the dependency layer is built for and the test suite "
        "runs on; cdk/layers.py RUNTIME moves together with CI, not with each release."
    ),
    "AwsSolutions-IAM5[Resource::*]": (
        "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support "
        "no resource-level permissions (the statement CDK adds for Tracing.ACTIVE)."
    ),
    "AwsSolutions-CFR1": (
        "The console serves a vendor's customers wherever they are; no country is excluded."
    ),
    "AwsSolutions-CFR2": (
        "The console is static files behind CloudFront (no origin to shield, nothing "
        "dynamic); the API it calls has its own throttling. A web ACL is the vendor's option."
    ),
    "AwsSolutions-CFR4": (
        "The distribution uses CloudFront's default certificate, whose minimum protocol "
        "CloudFront sets; a custom domain's certificate would take TLSv1.2_2021."
    ),
    "deployment": (
        "CDK's BucketDeployment provider: it copies the console's build from the asset "
        "bucket into the console's bucket and invalidates the distribution, once per "
        "deploy; its role, policies and runtime are CDK's."
    ),
    "index": (
        "Queries on the table's global secondary indexes: the grant is scoped to this "
        "table's indexes (<table ARN>/index/*), no other table."
    ),
}


#: The validation plugin cdk-nag registers: acknowledgments are ``<plugin>::<rule id>``,
#: so that CDK records them (with their reason) in ``validation-report.json``.
PLUGIN = "AwsSolutions"


def acknowledge(construct: IConstruct, rule: str, reason: str | None = None) -> None:
    """Accept a finding of ``rule`` on ``construct`` (and its children), with its reason."""
    text = reason or REASONS[rule]
    Validations.of(construct).acknowledge(_Acknowledgment(id=f"{PLUGIN}::{rule}", reason=text))


def default_child(construct: IConstruct) -> CfnResource:
    """The L1 resource of an L2 construct: acknowledgments go there, the narrowest scope."""
    child = construct.node.default_child
    if not isinstance(child, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    return child


def logical_id(resource: CfnResource) -> str:
    """The resolved logical id of a resource (as cdk-nag names it in finding ids)."""
    resolved: Any = Stack.of(resource).resolve(resource.logical_id)
    return str(resolved)


def acknowledge_index_access(role: iam.Role, tables: list[dynamodb.Table]) -> None:
    """Accept ``<table ARN>/index/*`` in ``role``'s (inline) policy, one finding per table."""
    resource = default_child(role)
    for table in tables:
        table_id = logical_id(default_child(table))
        acknowledge(
            resource, f"AwsSolutions-IAM5[Resource::<{table_id}.Arn>/index/*]", REASONS["index"]
        )


def apply_checks(scope: IConstruct) -> bool:
    """Register the AWS Solutions pack on the app; False (with a note) if cdk-nag is missing.

    Any unacknowledged finding, error or warning, then fails the synth.
    """
    try:
        from cdk_nag import AwsSolutionsChecks
    except ImportError:
        print(
            "cdk-nag is not installed (pip install -e '.[dev]'): no AWS Solutions checks",
            file=sys.stderr,
        )
        return False
    Validations.of(scope).add_plugins(AwsSolutionsChecks(scope, verbose=True))
    return True
