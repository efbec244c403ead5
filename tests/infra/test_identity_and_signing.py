"""The Cognito user pool the API trusts, its groups and clients, and the KMS signing key."""

from __future__ import annotations

from typing import Any

from licensing_core.settings import Settings

from cdk.identity import MACHINE_SCOPES, RESOURCE_SERVER, TENANT_ADMIN_GROUP, TENANT_ATTRIBUTE
from tests.infra.cloud_assembly import CloudAssembly, references


def _clients(assembly: CloudAssembly) -> dict[str, dict[str, Any]]:
    """``user`` / ``machine`` / ``console`` -> the properties of that app client (the
    console's is tested in test_console.py)."""
    clients = {
        "console"
        if client["Properties"].get("ClientName") == "licensing-console"
        else "machine"
        if client["Properties"].get("GenerateSecret")
        else "user": client["Properties"]
        for client in assembly.resources("AWS::Cognito::UserPoolClient").values()
    }
    assert len(clients) == len(assembly.resources("AWS::Cognito::UserPoolClient"))
    return clients


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


def test_the_tenant_attribute_is_the_claim_the_settings_read_and_only_admins_write_it(
    assembly: CloudAssembly,
) -> None:
    pool = assembly.properties(assembly.the("AWS::Cognito::UserPool"))
    (attribute,) = [a for a in pool["Schema"] if a["Name"] == TENANT_ATTRIBUTE]
    assert attribute["AttributeDataType"] == "String" and attribute["Mutable"] is True
    assert f"custom:{TENANT_ATTRIBUTE}" in Settings().tenant_claims
    writable = _clients(assembly)["user"]["WriteAttributes"]
    assert f"custom:{TENANT_ATTRIBUTE}" not in writable
    assert set(writable) <= {"email", "name"}


def test_machine_scopes_are_the_scopes_the_settings_map(assembly: CloudAssembly) -> None:
    defaults = Settings()
    expected = {defaults.admin_scope, defaults.read_scope}
    assert {f"{RESOURCE_SERVER}/{name}" for name in MACHINE_SCOPES} == expected


def test_user_pool_demands_strong_passwords(assembly: CloudAssembly) -> None:
    pool = assembly.properties(assembly.the("AWS::Cognito::UserPool"))
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    for requirement in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"):
        assert policy[requirement] is True


def test_groups_are_the_admins_the_settings_expect_and_tenant_admins(
    assembly: CloudAssembly,
) -> None:
    pool = assembly.the("AWS::Cognito::UserPool")
    groups = {
        group["Properties"]["GroupName"]: group["Properties"]
        for group in assembly.resources("AWS::Cognito::UserPoolGroup").values()
    }
    assert set(groups) == {Settings().admin_group, TENANT_ADMIN_GROUP}
    for group in groups.values():
        assert group["UserPoolId"] == {"Ref": pool}


def test_user_client_is_public_with_password_and_srp_flows(assembly: CloudAssembly) -> None:
    properties = _clients(assembly)["user"]
    assert set(properties["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert properties.get("GenerateSecret", False) is False
    assert properties["PreventUserExistenceErrors"] == "ENABLED"
    assert "AllowedOAuthFlows" not in properties


def test_machine_client_uses_client_credentials_with_resource_server_scopes(
    assembly: CloudAssembly,
) -> None:
    properties = _clients(assembly)["machine"]
    server_id = assembly.the("AWS::Cognito::UserPoolResourceServer")
    server = assembly.properties(server_id)
    assert server["Identifier"] == RESOURCE_SERVER
    assert {scope["ScopeName"] for scope in server["Scopes"]} == set(MACHINE_SCOPES)
    assert properties["GenerateSecret"] is True
    assert properties["AllowedOAuthFlows"] == ["client_credentials"]
    assert properties["AllowedOAuthFlowsUserPoolClient"] is True
    scopes = properties["AllowedOAuthScopes"]
    assert len(scopes) == len(MACHINE_SCOPES)
    for scope in scopes:  # "<resource server identifier>/<scope>"
        assert server_id in set(references(scope))
    # No user sign-in through the machine client.
    assert set(properties.get("ExplicitAuthFlows", [])) <= {"ALLOW_REFRESH_TOKEN_AUTH"}
    # Its token endpoint needs a domain.
    domain = assembly.properties(assembly.the("AWS::Cognito::UserPoolDomain"))
    assert domain["UserPoolId"] == {"Ref": assembly.the("AWS::Cognito::UserPool")}


def test_signing_key_is_rsa_sign_verify_and_retained(assembly: CloudAssembly) -> None:
    key_id = assembly.the("AWS::KMS::Key")
    resource = assembly.template["Resources"][key_id]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["Properties"]["KeySpec"] == "RSA_2048"
    assert resource["Properties"]["KeyUsage"] == "SIGN_VERIFY"
    alias = assembly.properties(assembly.the("AWS::KMS::Alias"))
    assert set(references(alias["TargetKeyId"])) == {key_id}
    assert alias["AliasName"].startswith("alias/")
