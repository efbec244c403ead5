"""``python cdk/app.py`` synthesizes offline, with no AWS account, region or lookups."""

from __future__ import annotations

import json

from aws_cdk.assertions import Template

from tests.infra.cloud_assembly import STACK, CloudAssembly


def test_app_synthesizes_an_environment_agnostic_stack(assembly: CloudAssembly) -> None:
    manifest = json.loads((assembly.outdir / "manifest.json").read_text())
    stack = manifest["artifacts"][STACK]
    assert stack["type"] == "aws:cloudformation:stack"
    assert stack["environment"] == "aws://unknown-account/unknown-region"
    assert "missing" not in manifest  # no context lookups were needed
    assert assembly.template_path.is_file()


def test_template_is_loadable_by_cdk_assertions(template: Template) -> None:
    template.resource_count_is("AWS::ApiGatewayV2::Api", 1)
    template.resource_count_is("AWS::Cognito::UserPool", 1)
    template.resource_count_is("AWS::KMS::Key", 1)


def test_outputs_name_what_a_deployment_needs(assembly: CloudAssembly) -> None:
    outputs = assembly.template["Outputs"]
    clients = {
        bool(client["Properties"].get("GenerateSecret")): logical_id
        for logical_id, client in assembly.resources("AWS::Cognito::UserPoolClient").items()
        if client["Properties"].get("ClientName") != "licensing-console"
    }
    (console,) = [
        logical_id
        for logical_id, client in assembly.resources("AWS::Cognito::UserPoolClient").items()
        if client["Properties"].get("ClientName") == "licensing-console"
    ]
    assert assembly.output_ref("ApiUrl") == assembly.the("AWS::ApiGatewayV2::Api")
    assert assembly.output_ref("UserPoolId") == assembly.the("AWS::Cognito::UserPool")
    assert assembly.output_ref("UserPoolClientId") == clients[False]
    assert assembly.output_ref("MachineClientId") == clients[True]
    assert assembly.output_ref("ConsoleClientId") == console  # tests/infra/test_console.py
    assert assembly.output_ref("TokenEndpoint") == assembly.the("AWS::Cognito::UserPoolDomain")
    assert assembly.output_ref("SigningKeyId") == assembly.the("AWS::KMS::Key")
    assert assembly.output_ref("EventBusName") == assembly.the("AWS::Events::EventBus")
    assert assembly.output_ref("DashboardName") == assembly.the("AWS::CloudWatch::Dashboard")
    assert assembly.output_ref("AlarmTopicArn") == assembly.the("AWS::SNS::Topic")
    assert "ApiDomainTarget" not in outputs  # no custom domain in the sample configuration
    assert outputs["Issuer"]["Value"] == f"urn:licensing:{STACK}"
    table_outputs = {assembly.output_ref(name) for name in outputs if name.endswith("TableName")}
    assert table_outputs == set(assembly.resources("AWS::DynamoDB::Table"))


def test_template_fits_cloudformation_limits(assembly: CloudAssembly) -> None:
    """500 resources per stack; 1 MB for a template deployed from S3 (as CDK does)."""
    assert len(assembly.template["Resources"]) < 500
    assert assembly.template_path.stat().st_size < 1_000_000
