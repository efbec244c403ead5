"""cdk-nag's AWS Solutions checks pass: every finding is fixed or acknowledged, with a
specific reason, on the one resource it is about."""

from __future__ import annotations

import pytest

from cdk.console import PROVIDER_FINDINGS
from cdk.nag import REASONS
from tests.infra.cloud_assembly import CloudAssembly


def _check(assembly: CloudAssembly) -> None:
    (report,) = [
        report
        for report in assembly.validation_report["pluginReports"]
        if report["pluginName"] == "AwsSolutions"
    ]
    assert report["conclusion"] == "success"
    assert report["violations"] == []  # errors and warnings alike
    acknowledged = assembly.acknowledged()
    assert acknowledged  # the pack ran and saw what we accept
    for finding in acknowledged:
        assert finding["reason"] in REASONS.values(), finding["ruleName"]
        (construct,) = finding["violatingConstructs"]
        # Acknowledged on the flagged resource itself, not on a parent or the stack.
        assert finding["acknowledgedAt"] == construct["constructPath"], finding["ruleName"]


def test_the_app_passes_the_aws_solutions_checks(assembly: CloudAssembly) -> None:
    _check(assembly)


def test_the_accepted_findings_are_the_expected_ones(assembly: CloudAssembly) -> None:
    rules = {finding["ruleName"].split("[")[0] for finding in assembly.acknowledged()}
    assert rules == {
        "AwsSolutions-APIG4",  # public and application routes
        "AwsSolutions-COG2",  # optional MFA
        "AwsSolutions-COG8",  # Essentials plan
        "AwsSolutions-L1",  # python3.11, the console deployment's provider
        "AwsSolutions-SQS3",  # the publisher's dead-letter queue has none of its own
        "AwsSolutions-IAM5",  # X-Ray's Resource: *, GSI queries, the console's provider
        "AwsSolutions-IAM4",  # the console deployment's provider (CDK's)
        "AwsSolutions-CFR1",  # the console: no geo restriction
        "AwsSolutions-CFR2",  # the console: no web ACL of its own
        "AwsSolutions-CFR4",  # the console: CloudFront's default certificate
    }
    provider = {finding for findings in PROVIDER_FINDINGS.values() for finding in findings}
    wildcards = {
        finding["ruleName"]
        for finding in assembly.acknowledged()
        if finding["ruleName"].startswith("AwsSolutions-IAM5")
    }
    for rule in wildcards:
        assert (
            rule == "AwsSolutions-IAM5[Resource::*]"
            or rule.endswith(".Arn>/index/*]")
            or rule in provider
        )


@pytest.mark.parametrize("variant", ["azure", "oidc", "pool"])
def test_variants_pass_the_aws_solutions_checks(variants: object, variant: str) -> None:
    _check(getattr(variants, variant))
