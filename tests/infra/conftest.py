"""One synth of the app per test run, shared by every infra test (and by pytest-xdist
workers), and one in-process synth of small variant stacks of the construct."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from licensing_core.settings import Settings
from licensing_core.store.models import ALL_MODELS

from tests.infra.cloud_assembly import QUIET_NODE, CloudAssembly, resolve, start_synthesis

if TYPE_CHECKING:
    from aws_cdk.assertions import Template

    from tests.infra.variants import Variants

# Before any test module starts jsii: no end-of-life Node banner on every run.
for _name, _value in QUIET_NODE.items():
    os.environ.setdefault(_name, _value)

#: Variables the stack sets that ``Settings`` (``extra="forbid"``) must declare, and the
#: field each becomes. Until a field exists, the fixtures below leave its variable out so
#: that the rest of the suite still runs; ``test_settings_accept_every_variable`` fails
#: meanwhile (strict xfail) and names what is missing.
PENDING_SETTINGS = {
    "LICENSING_EVENT_BUS": "event_bus",
    "LICENSING_AZURE_CREDENTIALS_SECRET_ARN": "azure_credentials_secret_arn",
    "LICENSING_COGNITO_USER_POOL_ID": "cognito_user_pool_id",
}
_SETTINGS_FIELDS = frozenset(field.name for field in fields(Settings))


def missing_settings_fields() -> list[str]:
    return [field for field in PENDING_SETTINGS.values() if field not in _SETTINGS_FIELDS]


def settings_from(variables: Mapping[str, object]) -> Settings:
    """Settings from a function's environment, intrinsics resolved as ``<Id>``."""
    environ = {name: resolve(value) for name, value in variables.items()}
    for name, field in PENDING_SETTINGS.items():
        if field not in _SETTINGS_FIELDS:
            environ.pop(name, None)
    return Settings.from_env(environ)


@contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


#: The variant synth's result, or its error (raised by the ``variants`` fixture only).
_variants: list[Variants | Exception] = []


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    """The cloud assembly of ``python cdk/app.py``, run once without any AWS configuration.

    While that subprocess runs, this process synthesizes the variant stacks (two CPUs
    make two synths take the time of one).
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by all workers of this run
    outdir = root / "cdk.out"
    with _exclusive(root / "cdk.out.lock"):
        if not (outdir / "manifest.json").is_file():
            log_path = root / "cdk.out.log"
            with log_path.open("w") as log:
                process = start_synthesis(outdir, log)
                try:
                    _variants.append(_synthesize_variants(tmp_path_factory))
                except Exception as error:  # reported by the tests that use them
                    _variants.append(error)
                finally:
                    returncode = process.wait(timeout=600)
            if returncode != 0:
                pytest.fail(f"cdk/app.py failed ({returncode}):\n{log_path.read_text()}")
    return CloudAssembly(outdir)


@pytest.fixture(scope="session")
def template(assembly: CloudAssembly) -> Template:
    """The stack's template, for ``aws_cdk.assertions``."""
    from aws_cdk.assertions import Template

    return Template.from_json(assembly.template)


@pytest.fixture(scope="session")
def function_settings(assembly: CloudAssembly) -> dict[str, Settings]:
    """Function logical id -> the settings its environment yields (intrinsics as ``<Id>``)."""
    return {
        function_id: settings_from(function["Properties"]["Environment"]["Variables"])
        for function_id, function in assembly.resources("AWS::Lambda::Function").items()
    }


@pytest.fixture(scope="session")
def table_ids(assembly: CloudAssembly, function_settings: dict[str, Settings]) -> dict[str, str]:
    """Logical table name -> logical id of the table the functions are configured with."""
    (mapping,) = {
        tuple((model.logical_name, settings.table_name(model.logical_name)) for model in ALL_MODELS)
        for settings in function_settings.values()
    }  # one and the same for every function
    tables = assembly.resources("AWS::DynamoDB::Table")
    ids = {name: physical.removeprefix("<").removesuffix(">") for name, physical in mapping}
    assert set(ids.values()) == set(tables), f"{ids} must name the stack's tables {set(tables)}"
    return ids


@pytest.fixture(scope="session")
def layer_dirs(assembly: CloudAssembly) -> dict[str, Path]:
    """``core`` / ``dependencies`` -> the staged directory of that layer."""
    dirs = [
        assembly.asset_dir(layer["Properties"]["Content"])
        for layer in assembly.resources("AWS::Lambda::LayerVersion").values()
    ]
    (core,) = [path for path in dirs if (path / "python" / "licensing_core").is_dir()]
    (dependencies,) = [path for path in dirs if path != core]
    return {"core": core, "dependencies": dependencies}


@pytest.fixture(scope="session")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Variants:
    """Small stacks of the construct in other configurations, synthesized in-process once
    (bundling off, cdk-nag on), with fake function folders."""
    if not _variants:
        _variants.append(_synthesize_variants(tmp_path_factory))
    result = _variants[0]
    if isinstance(result, Exception):
        raise result
    return result


def _synthesize_variants(tmp_path_factory: pytest.TempPathFactory) -> Variants:
    from tests.infra.variants import synthesize_variants

    return synthesize_variants(tmp_path_factory.mktemp("variants"))
