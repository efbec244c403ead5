"""A Lambda function per route (and per scheduled job and trigger whose folder exists):
its own folder, both layers, the platform, the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from licensing_core.routes import ROUTES, Route
from licensing_core.settings import Settings

from cdk.paths import FUNCTIONS_DIR
from cdk.specs import DEFAULT_CONSUMERS, DEFAULT_TRIGGERS, default_jobs
from tests.infra.cloud_assembly import STACK, CloudAssembly, file_tree, references
from tests.infra.conftest import PENDING_SETTINGS, missing_settings_fields

routes = pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.route_key)
#: Declared jobs, stream consumers and triggers whose handler folder exists here.
PRESENT = [
    spec.function
    for spec in (*default_jobs(), *DEFAULT_CONSUMERS, *DEFAULT_TRIGGERS)
    if (FUNCTIONS_DIR / spec.function).is_dir()
]


def _folder_of(assembly: CloudAssembly, function_id: str) -> str | None:
    """The ``functions/`` folder whose files a function's code asset holds."""
    tree = file_tree(assembly.code_dir(function_id))
    for folder in (*(route.function for route in ROUTES), *PRESENT):
        if file_tree(FUNCTIONS_DIR / folder) == tree:
            return folder
    return None


def test_each_function_is_a_route_job_or_triggers_folder(assembly: CloudAssembly) -> None:
    route_functions = {assembly.function_of(route.route_key) for route in ROUTES}
    assert len(route_functions) == len(ROUTES)  # no two routes share a function
    folders = {
        function_id: _folder_of(assembly, function_id)
        for function_id in assembly.resources("AWS::Lambda::Function")
    }
    found = [folder for folder in folders.values() if folder is not None]
    assert len(found) == len(folders), folders
    assert sorted(found) == sorted({*(r.function for r in ROUTES), *PRESENT})


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


def test_function_logs_expire_and_are_the_functions_own(assembly: CloudAssembly) -> None:
    groups = []
    for function_id, function in assembly.resources("AWS::Lambda::Function").items():
        (log_group,) = set(references(function["Properties"]["LoggingConfig"]["LogGroup"]))
        assert assembly.properties(log_group)["RetentionInDays"] == 30, function_id
        groups.append(log_group)
    assert len(groups) == len(set(groups))


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
    groups = {
        group["Properties"]["GroupName"]
        for group in assembly.resources("AWS::Cognito::UserPoolGroup").values()
    }
    clients = assembly.resources("AWS::Cognito::UserPoolClient")
    assert settings.oidc_issuer == f"https://<{pool}.ProviderURL>"
    assert settings.oidc_jwks_url == f"https://<{pool}.ProviderURL>/.well-known/jwks.json"
    assert sorted(settings.oidc_audiences) == sorted(f"<{client}>" for client in clients)
    assert settings.admin_group in groups
    assert settings.signer == "kms"
    assert settings.kms_key_id == f"<{assembly.the('AWS::KMS::Key')}.Arn>"
    assert settings.issuer == f"urn:licensing:{STACK}"
    assert settings.aws_endpoint_url is None
    for name, table_id in table_ids.items():
        assert settings.table_name(name) == f"<{table_id}>"
    variables = assembly.environment(function_id)
    assert variables["POWERTOOLS_SERVICE_NAME"] == "licensing"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Licensing"
    assert variables["PYDANTIC_DISABLE_PLUGINS"] == "__all__"  # no entry-point scan


@pytest.mark.xfail(
    bool(missing_settings_fields()),
    reason=f"Settings lacks {missing_settings_fields()}: declare "
    + ", ".join(f"{name} as {field}" for name, field in PENDING_SETTINGS.items()),
    strict=True,
)
def test_settings_accept_every_variable_the_stack_sets(assembly: CloudAssembly) -> None:
    """Settings forbid unknown ``LICENSING_*`` variables: each one the stack sets must be a field."""
    from tests.infra.cloud_assembly import resolve

    for function_id in assembly.resources("AWS::Lambda::Function"):
        variables = assembly.environment(function_id)
        Settings.from_env({name: resolve(value) for name, value in variables.items()})
