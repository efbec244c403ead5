"""The Cognito user pool the API trusts, and the KMS key that signs tokens."""

from __future__ import annotations

from aws_cdk.assertions import Template
from licensing_core.settings import Settings

from tests.infra.cloud_assembly import CloudAssembly, references


def test_user_pool_is_invite_only_with_email_sign_in(assembly: CloudAssembly) -> None:
    resource = assembly.template["Resources"][assembly.the("AWS::Cognito::UserPool")]
    pool = resource["Properties"]
    assert resource["DeletionPolicy"] == "Retain"
    assert pool["DeletionProtection"] == "ACTIVE"
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert "UserPoolAddOns" not in pool  # no advanced security / threat protection


def test_user_pool_demands_strong_passwords(assembly: CloudAssembly) -> None:
    pool = assembly.properties(assembly.the("AWS::Cognito::UserPool"))
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    for requirement in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"):
        assert policy[requirement] is True


def test_admin_group_is_the_one_the_settings_expect(assembly: CloudAssembly) -> None:
    group = assembly.properties(assembly.the("AWS::Cognito::UserPoolGroup"))
    assert group["GroupName"] == Settings.model_fields["admin_group"].default
    assert group["UserPoolId"] == {"Ref": assembly.the("AWS::Cognito::UserPool")}


def test_app_client_is_public_with_password_and_srp_flows(template: Template) -> None:
    (client,) = template.find_resources("AWS::Cognito::UserPoolClient").values()
    properties = client["Properties"]
    assert set(properties["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert properties.get("GenerateSecret", False) is False
    assert properties["PreventUserExistenceErrors"] == "ENABLED"
    assert "AllowedOAuthFlows" not in properties


def test_signing_key_is_rsa_sign_verify_and_retained(assembly: CloudAssembly) -> None:
    key_id = assembly.the("AWS::KMS::Key")
    resource = assembly.template["Resources"][key_id]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["Properties"]["KeySpec"] == "RSA_2048"
    assert resource["Properties"]["KeyUsage"] == "SIGN_VERIFY"
    alias = assembly.properties(assembly.the("AWS::KMS::Alias"))
    assert set(references(alias["TargetKeyId"])) == {key_id}
    assert alias["AliasName"].startswith("alias/")
