"""A Lambda function per route: its own folder, both layers, the platform, the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk.assertions import Template
from licensing_core.routes import ROUTES, Route
from licensing_core.settings import Settings

from cdk.paths import FUNCTIONS_DIR
from tests.infra.cloud_assembly import STACK, CloudAssembly, file_tree, references

routes = pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.route_key)


def test_a_function_per_route(assembly: CloudAssembly, template: Template) -> None:
    template.resource_count_is("AWS::Lambda::Function", len(ROUTES))
    functions = {assembly.function_of(route.route_key) for route in ROUTES}
    assert len(functions) == len(ROUTES)


@routes
def test_function_code_is_the_routes_folder(assembly: CloudAssembly, route: Route) -> None:
    function = assembly.properties(assembly.function_of(route.route_key))
    code = assembly.asset_dir(function["Code"])
    assert function["Handler"] == "handler.handler"
    assert (code / "handler.py").is_file()
    assert file_tree(code) == file_tree(FUNCTIONS_DIR / route.function)


@routes
def test_function_platform(assembly: CloudAssembly, route: Route) -> None:
    function = assembly.properties(assembly.function_of(route.route_key))
    assert function["Runtime"] == "python3.11"
    assert function["Architectures"] == ["arm64"]
    assert function["MemorySize"] == 512
    assert 3 <= function["Timeout"] <= 29  # under the HTTP API's integration timeout
    assert function["TracingConfig"] == {"Mode": "Active"}


@routes
def test_function_has_the_core_and_dependency_layers(
    assembly: CloudAssembly, layer_dirs: dict[str, Path], route: Route
) -> None:
    function = assembly.properties(assembly.function_of(route.route_key))
    layers = [
        assembly.asset_dir(assembly.properties(layer)["Content"])
        for layer in references(function["Layers"])
    ]
    assert layers == [layer_dirs["core"], layer_dirs["dependencies"]]


@routes
def test_function_logs_expire(assembly: CloudAssembly, route: Route) -> None:
    function = assembly.properties(assembly.function_of(route.route_key))
    (log_group,) = set(references(function["LoggingConfig"]["LogGroup"]))
    assert assembly.properties(log_group)["RetentionInDays"] == 30


@routes
def test_function_environment_configures_the_settings(
    assembly: CloudAssembly,
    function_settings: dict[str, Settings],
    table_ids: dict[str, str],
    route: Route,
) -> None:
    function_id = assembly.function_of(route.route_key)
    settings = function_settings[function_id]
    pool = assembly.the("AWS::Cognito::UserPool")
    group = assembly.properties(assembly.the("AWS::Cognito::UserPoolGroup"))
    assert settings.oidc_issuer == f"https://<{pool}.ProviderURL>"
    assert settings.oidc_jwks_url == f"https://<{pool}.ProviderURL>/.well-known/jwks.json"
    assert settings.oidc_audiences == (f"<{assembly.the('AWS::Cognito::UserPoolClient')}>",)
    assert settings.admin_group == group["GroupName"]
    assert settings.signer == "kms"
    assert settings.kms_key_id == f"<{assembly.the('AWS::KMS::Key')}.Arn>"
    assert settings.issuer == f"urn:licensing:{STACK}"
    assert settings.aws_endpoint_url is None
    for name, table_id in table_ids.items():
        assert settings.table_name(name) == f"<{table_id}>"
    variables = assembly.properties(function_id)["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "licensing"
