"""The API models (and the stored records) live in one module per area and load on first
use: ``schemas.X`` and ``from licensing_core.schemas import X`` find every model, and a
function imports the models of its own route, not the whole API's (cold starts)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from licensing_core import schemas
from licensing_core.plain import PlainModel, PlainRequest
from licensing_core.routes import ROUTES, Route
from licensing_core.store import models

from tests.support import ROOT

PACKAGE = ROOT / "layers" / "licensing_core" / "python" / "licensing_core" / "schemas"


def _defined(path: Path) -> set[str]:
    """The public names a module defines at its top level."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("package", [schemas, models], ids=lambda package: package.__name__)
def test_the_package_knows_where_every_public_name_lives(package: ModuleType) -> None:
    """The lazy packages (API models, stored records) list each module's names."""
    folder = Path(package.__file__ or "").parent
    modules = {path.stem for path in folder.glob("*.py")} - {"__init__"}
    assert set(package._NAMES) == modules
    for module in modules:
        assert set(package._NAMES[module].split()) == _defined(folder / f"{module}.py"), module


@pytest.mark.parametrize("package", [schemas, models], ids=lambda package: package.__name__)
def test_every_name_imports_both_ways(package: ModuleType) -> None:
    for name in package.__all__:
        value = getattr(package, name)
        exec(f"from {package.__name__} import {name} as imported", namespace := {})  # noqa: S102
        assert namespace["imported"] is value
    with pytest.raises(AttributeError):
        package.NoSuchModel  # noqa: B018


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.function)
def test_a_rows_model_names_resolve_to_api_models(route: Route) -> None:
    for model, bases in (
        (route.request, (schemas.RequestModel, PlainRequest)),
        (route.query, (schemas.RequestModel,)),
        (route.response, (schemas.ApiModel, PlainModel)),
    ):
        assert model is None or issubclass(model, bases)


IMPORTS_HANDLER = """
import importlib.util, json, sys
sys.path[:0] = [{layer!r}]
spec = importlib.util.spec_from_file_location("handler", {handler!r})
handler = importlib.util.module_from_spec(spec)
spec.loader.exec_module(handler)
EVENT = {{"body": '{{"unknown": 1}}', "headers": {{"content-type": "application/json"}}}}
refused = handler.handler(EVENT, None)
print(json.dumps({{
    "schemas": sorted(m for m in sys.modules if m.startswith("licensing_core.schemas.")),
    "status": refused["statusCode"],
    "pydantic": sorted(m for m in sys.modules if m.split(".")[0].startswith("pydantic")),
}}))
"""


@pytest.mark.parametrize(
    ("function", "module"),
    [("heartbeat", "machines"), ("validate_license", "validation"), ("activate", "machines")],
)
def test_a_hot_function_imports_its_own_models_and_no_pydantic(function: str, module: str) -> None:
    """Application routes' models are plain (``licensing_core.plain``): neither init nor
    a request (here one refused by validation) imports pydantic."""
    code = IMPORTS_HANDLER.format(
        layer=str(PACKAGE.parent.parent), handler=str(ROOT / "functions" / function / "handler.py")
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["schemas"] == [f"licensing_core.schemas.{name}" for name in ("fields", module)]
    assert report["status"] == 422
    assert report["pydantic"] == []
