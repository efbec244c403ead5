"""The construct in the configurations the sample app does not use (see ``variants.py``)."""

from __future__ import annotations

from typing import Any

from cdk.identity import IDENTITY_ADMIN_ACTIONS, IDENTITY_PROVIDER_ACTIONS
from tests.infra.cloud_assembly import (
    CloudAssembly,
    actions,
    file_tree,
    grants,
    references,
    resolve,
)
from tests.infra.variants import (
    AZURE_KEY_ID,
    CERTIFICATE_ARN,
    DOMAIN,
    KEY_ARN,
    OIDC_ISSUER,
    OIDC_JWKS,
    POOL_ID,
    POOL_REGION,
    SECRET_ARN,
    SECRET_KEY_ARN,
    Variants,
)


def _function(assembly: CloudAssembly, folder: str, variants: Variants) -> str:
    """Logical id of the function whose code is the fake ``folder``."""
    tree = file_tree(variants.functions_dir / folder)
    (function_id,) = [
        function_id
        for function_id, function in assembly.resources("AWS::Lambda::Function").items()
        if function["Properties"]["Description"].startswith(("GET", "POST", "Scheduled", "Cognito"))
        and file_tree(assembly.code_dir(function_id)) == tree
        and _named(function["Properties"]["Description"], folder)
    ]
    return function_id


def _named(description: str, folder: str) -> bool:
    paths = {
        "ping": "GET /ping:",
        "sign": "POST /sign:",
        "keys": "GET /keys:",
        "invite": "POST /users:",
        "quiet": "POST /quiet:",
        "read": "GET /read:",
        "whoami": "GET /whoami:",
        "fake_job": "Scheduled: a fake job",
        "provision_identity": "Cognito post-confirmation",
    }
    return description.startswith(paths[folder])


def _statements_with(assembly: CloudAssembly, function_id: str, action: str) -> list[Any]:
    return [s for s in assembly.statements(function_id) if action in actions(s)]


# Azure Key Vault signer, new pool with a trigger, custom domain, jobs, disposable data


def test_azure_signer_gets_the_key_id_and_only_the_secrets_arn(variants: Variants) -> None:
    azure = variants.azure
    assert not azure.resources("AWS::KMS::Key")
    for function_id in azure.resources("AWS::Lambda::Function"):
        variables = azure.environment(function_id)
        assert variables["LICENSING_SIGNER"] == "azure"
        assert variables["LICENSING_AZURE_KEY_ID"] == AZURE_KEY_ID
        assert not {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"} & set(variables)
        assert "LICENSING_KMS_KEY_ID" not in variables
        assert not grants(azure, function_id, "kms:Sign")


def test_only_functions_using_the_key_read_the_azure_credentials(variants: Variants) -> None:
    azure = variants.azure
    users = {_function(azure, name, variants) for name in ("sign", "keys", "provision_identity")}
    for function_id in azure.resources("AWS::Lambda::Function"):
        variables = azure.environment(function_id)
        reads = _statements_with(azure, function_id, "secretsmanager:GetSecretValue")
        decrypts = _statements_with(azure, function_id, "kms:Decrypt")
        if function_id in users:
            assert variables["LICENSING_AZURE_CREDENTIALS_SECRET_ARN"] == SECRET_ARN
            assert [s["Resource"] for s in reads] == [SECRET_ARN]
            assert [s["Resource"] for s in decrypts] == [SECRET_KEY_ARN]
        else:
            assert "LICENSING_AZURE_CREDENTIALS_SECRET_ARN" not in variables
            assert not reads and not decrypts


def test_a_declared_job_with_a_folder_runs_on_its_schedule(variants: Variants) -> None:
    azure = variants.azure
    function_id = _function(azure, "fake_job", variants)
    (rule_id,) = azure.resources("AWS::Events::Rule")
    rule = azure.properties(rule_id)
    assert rule["ScheduleExpression"] == "rate(15 minutes)"
    assert azure.rule_targets(rule_id) == {function_id}
    assert azure.properties(function_id)["Timeout"] == 300
    tables = {
        table_id: actions for table_id, actions in grants(azure, function_id, "dynamodb").items()
    }
    claims = [t for t in tables if t.startswith("LicensingTablesClaims")]
    products = [t for t in tables if t.startswith("LicensingTablesProducts")]
    assert len(tables) == 2 and claims and products
    assert "dynamodb:PutItem" in tables[claims[0]]
    assert "dynamodb:PutItem" not in tables[products[0]]
    assert not grants(azure, function_id, "events")  # only the outbox publishes


def test_a_declared_job_without_a_folder_is_skipped(variants: Variants) -> None:
    azure = variants.azure
    descriptions = [
        f["Properties"]["Description"] for f in azure.resources("AWS::Lambda::Function").values()
    ]
    assert "Scheduled: no folder" not in descriptions
    assert not (variants.functions_dir / "not_written_yet").exists()


def test_post_confirmation_trigger_is_wired_without_a_dependency_cycle(
    variants: Variants,
) -> None:
    azure = variants.azure
    function_id = _function(azure, "provision_identity", variants)
    pool_id = azure.the("AWS::Cognito::UserPool")
    pool = azure.properties(pool_id)
    assert set(references(pool["LambdaConfig"]["PostConfirmation"])) == {function_id}
    # The function must not depend on the pool that depends on it.
    variables = azure.environment(function_id)
    assert not {k for k in variables if k.startswith("LICENSING_OIDC")}
    assert pool_id not in set(references(azure.template["Resources"][function_id]))
    assert pool_id not in set(references(azure.statements(function_id)))
    assert azure.properties(function_id)["Timeout"] <= 5  # Cognito waits 5 s
    # Sign-ups are what the trigger provisions: this variant lets people sign up.
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    (permission,) = [
        p["Properties"]
        for p in azure.resources("AWS::Lambda::Permission").values()
        if function_id in set(references(p["Properties"]["FunctionName"]))
    ]
    assert permission["Principal"] == "cognito-idp.amazonaws.com"


def test_identity_provider_uses_get_their_actions_on_the_new_pool(variants: Variants) -> None:
    azure = variants.azure
    pool = azure.the("AWS::Cognito::UserPool")
    invite = _function(azure, "invite", variants)
    whoami = _function(azure, "whoami", variants)
    assert grants(azure, invite, "cognito-idp") == {pool: set(IDENTITY_ADMIN_ACTIONS)}
    assert grants(azure, whoami, "cognito-idp") == {pool: set(IDENTITY_PROVIDER_ACTIONS["read"])}
    for function_id in (invite, whoami):
        assert azure.environment(function_id)["LICENSING_COGNITO_USER_POOL_ID"] == {"Ref": pool}
    for function_id in azure.resources("AWS::Lambda::Function"):
        if function_id not in (invite, whoami):
            assert not grants(azure, function_id, "cognito-idp")
            assert "LICENSING_COGNITO_USER_POOL_ID" not in azure.environment(function_id)


def test_no_route_job_or_trigger_puts_events(variants: Variants) -> None:
    """Requests commit; the outbox's publisher (absent from this variant) publishes."""
    azure = variants.azure
    assert not [f for f in azure.resources("AWS::Lambda::Function") if grants(azure, f, "events")]


def test_custom_domain_serves_the_api_and_names_the_issuer(variants: Variants) -> None:
    azure = variants.azure
    domain = azure.properties(azure.the("AWS::ApiGatewayV2::DomainName"))
    assert domain["DomainName"] == DOMAIN
    assert domain["DomainNameConfigurations"][0]["CertificateArn"] == CERTIFICATE_ARN
    mapping = azure.properties(azure.the("AWS::ApiGatewayV2::ApiMapping"))
    assert set(references(mapping["ApiId"])) == {azure.the("AWS::ApiGatewayV2::Api")}
    for function_id in azure.resources("AWS::Lambda::Function"):
        variables = azure.environment(function_id)
        assert variables["LICENSING_ISSUER"] == f"https://{DOMAIN}"
        assert variables["LICENSING_PUBLIC_URL"] == f"https://{DOMAIN}"


def test_disposable_data_is_deleted_with_the_stack(variants: Variants) -> None:
    azure = variants.azure
    for table_id, table in azure.resources("AWS::DynamoDB::Table").items():
        assert table["DeletionPolicy"] == "Delete", table_id
        assert table["Properties"]["DeletionProtectionEnabled"] is False
        assert table["Properties"]["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True
        }
    pool = azure.template["Resources"][azure.the("AWS::Cognito::UserPool")]
    assert pool["DeletionPolicy"] == "Delete"
    assert pool["Properties"]["DeletionProtection"] == "INACTIVE"
    for log_group in azure.resources("AWS::Logs::LogGroup").values():
        assert log_group["Properties"]["RetentionInDays"] == 7
    assert not azure.resources("AWS::Events::Archive")


# Existing KMS key, any OIDC issuer


def test_an_existing_kms_key_is_granted_by_arn(variants: Variants) -> None:
    oidc = variants.oidc
    assert not oidc.resources("AWS::KMS::Key")
    sign, keys = (_function(oidc, name, variants) for name in ("sign", "keys"))
    for function_id in oidc.resources("AWS::Lambda::Function"):
        assert oidc.environment(function_id)["LICENSING_KMS_KEY_ID"] == KEY_ARN
        uses = {
            action
            for statement in oidc.statements(function_id)
            for action in actions(statement, "kms")
            if statement["Resource"] == KEY_ARN
        }
        expected = {"kms:DescribeKey", "kms:GetPublicKey"}
        assert uses == (
            expected | {"kms:Sign"}
            if function_id == sign
            else expected
            if function_id == keys
            else set()
        )


def test_a_foreign_oidc_issuer_is_trusted_at_the_edge_and_in_the_functions(
    variants: Variants,
) -> None:
    oidc = variants.oidc
    assert not oidc.resources("AWS::Cognito::UserPool")
    authorizer = oidc.properties(oidc.the("AWS::ApiGatewayV2::Authorizer"))
    assert authorizer["JwtConfiguration"] == {
        "Issuer": OIDC_ISSUER,
        "Audience": ["api://licensing"],
    }
    invite = _function(oidc, "invite", variants)
    variables = oidc.environment(invite)
    assert variables["LICENSING_OIDC_ISSUER"] == OIDC_ISSUER
    assert variables["LICENSING_OIDC_JWKS_URL"] == OIDC_JWKS
    assert variables["LICENSING_OIDC_AUDIENCES"] == "api://licensing"
    # No Cognito: identity-admin routes get nothing to administer.
    assert not grants(oidc, invite, "cognito-idp")
    assert "LICENSING_COGNITO_USER_POOL_ID" not in variables


# Existing Cognito user pool


def test_an_existing_pool_is_trusted_by_region_and_id(variants: Variants) -> None:
    pool = variants.pool
    assert not pool.resources("AWS::Cognito::UserPool")
    issuer = f"https://cognito-idp.{POOL_REGION}.amazonaws.com/{POOL_ID}"
    authorizer = pool.properties(pool.the("AWS::ApiGatewayV2::Authorizer"))
    assert authorizer["JwtConfiguration"] == {
        "Issuer": issuer,
        "Audience": ["client-a", "client-b"],
    }
    invite = _function(pool, "invite", variants)
    variables = pool.environment(invite)
    assert variables["LICENSING_OIDC_JWKS_URL"] == f"{issuer}/.well-known/jwks.json"
    assert variables["LICENSING_COGNITO_USER_POOL_ID"] == POOL_ID
    (statement,) = [s for s in pool.statements(invite) if actions(s, "cognito-idp")]
    assert actions(statement, "cognito-idp") == set(IDENTITY_ADMIN_ACTIONS)
    assert resolve(statement["Resource"]) == (
        f"arn:<AWS::Partition>:cognito-idp:{POOL_REGION}:<AWS::AccountId>:userpool/{POOL_ID}"
    )


def test_alarms_can_be_left_out(variants: Variants) -> None:
    pool = variants.pool
    assert not pool.resources("AWS::CloudWatch::Alarm")
    assert pool.resources("AWS::CloudWatch::Dashboard")
    assert variants.oidc.resources("AWS::CloudWatch::Alarm")
