"""The core layer is the package; the dependency layer is the runtime deps, for arm64."""

from __future__ import annotations

import re
from pathlib import Path

from licensing_core.http.docs import SWAGGER_FILES

from cdk.layers import PipLayerBundler, runtime_requirements
from cdk.paths import CORE_LAYER_DIR
from tests.infra.cloud_assembly import file_tree

#: Development tools that must never ship (``pyjwt`` is dev and a runtime dep of msal).
DEV_ONLY = {"pytest", "_pytest", "moto", "aws_cdk", "aws_cdk_lib", "jsii", "constructs", "mypy"}
LAMBDA_LIMIT_MB = 250  # unzipped, function code and all layers together


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _top_level(path: Path) -> str:
    """``pynamodb`` for ``pynamodb/`` and for ``pynamodb-6.1.0.dist-info``."""
    return _normalize(path.name.split("-")[0])


def _project(requirement: str) -> str:
    """``aws_lambda_powertools`` for ``aws-lambda-powertools>=3.20,<4``."""
    return _normalize(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0])


def _size_mb(root: Path) -> float:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file()) / 2**20


def test_core_layer_is_the_package_under_python(layer_dirs: dict[str, Path]) -> None:
    core = layer_dirs["core"]
    assert (core / "python" / "licensing_core" / "routes.py").is_file()
    assert file_tree(core) == file_tree(CORE_LAYER_DIR)
    assert not [p for p in core.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]


def test_dependency_layer_holds_the_runtime_dependencies(layer_dirs: dict[str, Path]) -> None:
    site = layer_dirs["dependencies"] / "python"
    for package in ("pynamodb", "jwcrypto", "aws_lambda_powertools", "pydantic_core", "boto3"):
        assert (site / package).is_dir(), package
    installed = {_top_level(path) for path in site.glob("*.dist-info")}
    assert {_project(requirement) for requirement in runtime_requirements()} <= installed


def test_dependency_layer_holds_swagger_ui_for_the_docs_page(layer_dirs: dict[str, Path]) -> None:
    """``GET /docs/{asset}`` serves these files from the layer in AWS (no CDN, no Docker)."""
    (vendor,) = (layer_dirs["dependencies"] / "python" / "swagger_ui_bundle" / "vendor").iterdir()
    for name in SWAGGER_FILES:
        assert (vendor / name).stat().st_size > 10_000, name


def test_dependency_layer_is_built_for_arm64(layer_dirs: dict[str, Path]) -> None:
    site = layer_dirs["dependencies"] / "python"
    assert list((site / "pydantic_core").glob("*aarch64*.so"))
    extensions = list(site.rglob("*.so"))
    assert extensions
    assert not [path for path in extensions if "x86_64" in path.name]


def test_dependency_layer_ships_no_dev_tools_or_cruft(layer_dirs: dict[str, Path]) -> None:
    site = layer_dirs["dependencies"] / "python"
    assert not {_top_level(path) for path in site.iterdir()} & DEV_ONLY
    assert not (site / "bin").exists()
    assert not list(site.rglob("__pycache__"))


def test_layers_fit_lambdas_size_limit(layer_dirs: dict[str, Path]) -> None:
    assert sum(_size_mb(path) for path in layer_dirs.values()) < LAMBDA_LIMIT_MB - 20


def test_dependency_layer_hash_is_its_recipe() -> None:
    def recipe(requirements: list[str], platform: str = "manylinux2014_aarch64") -> str:
        return PipLayerBundler(requirements, platform, "3.11").hash

    assert recipe(["a>=1", "b"]) == recipe(["b", "a>=1"])
    assert recipe(["a>=1", "b"]) != recipe(["a>=2", "b"])
    assert recipe(["a>=1"]) != recipe(["a>=1"], platform="manylinux2014_x86_64")
