"""One synth per test run, shared by every infra test (and by pytest-xdist workers)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from licensing_core.settings import Settings
from licensing_core.store.models import ALL_MODELS

from tests.infra.cloud_assembly import QUIET_NODE, CloudAssembly, resolve, synthesize

if TYPE_CHECKING:
    from aws_cdk.assertions import Template

# Before any test module starts jsii: no end-of-life Node banner on every run.
for _name, _value in QUIET_NODE.items():
    os.environ.setdefault(_name, _value)


@contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    """The cloud assembly of ``python cdk/app.py``, run once without any AWS configuration."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by all workers of this run
    outdir = root / "cdk.out"
    with _exclusive(root / "cdk.out.lock"):
        if not (outdir / "manifest.json").is_file():
            result = synthesize(outdir)
            if result.returncode != 0:
                pytest.fail(f"cdk/app.py failed ({result.returncode}):\n{result.stderr}")
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
        function_id: Settings.from_env({name: resolve(value) for name, value in variables.items()})
        for function_id, function in assembly.resources("AWS::Lambda::Function").items()
        for variables in [function["Properties"]["Environment"]["Variables"]]
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
