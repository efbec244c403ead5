"""The core layer is the package; the dependency layer is the locked runtime deps, for
arm64; both ship bytecode for the runtime's Python."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from licensing_core.http.docs import SWAGGER_FILES

from cdk.bundling import PYTHON_VERSION, locked_versions
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


def _size_mb(root: Path) -> float:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file()) / 2**20


def _without_bytecode(root: Path) -> list[str]:
    """Sources under ``root`` whose bytecode is missing, stale, or not ``unchecked-hash``
    bytecode of the runtime's Python (which would be recompiled on every cold start)."""
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == PYTHON_VERSION
    wrong = []
    for source in root.rglob("*.py"):
        cached = Path(importlib.util.cache_from_source(str(source)))
        header = cached.read_bytes()[:16] if cached.is_file() else b""
        if (
            header[:4] != importlib.util.MAGIC_NUMBER
            or int.from_bytes(header[4:8], "little") != 0b01  # hash-based, unchecked
            or header[8:16] != importlib.util.source_hash(source.read_bytes())
        ):
            wrong.append(source.relative_to(root).as_posix())
    return wrong


def test_core_layer_is_the_package_under_python(layer_dirs: dict[str, Path]) -> None:
    core = layer_dirs["core"]
    assert (core / "python" / "licensing_core" / "routes.py").is_file()
    assert file_tree(core) == file_tree(CORE_LAYER_DIR)  # sources, bytecode aside


def test_both_layers_ship_unchecked_hash_bytecode_for_every_source(
    layer_dirs: dict[str, Path],
) -> None:
    for name, layer in layer_dirs.items():
        sources = list(layer.rglob("*.py"))
        assert len(sources) > (1000 if name == "dependencies" else 50), name
        assert _without_bytecode(layer) == [], name


def test_dependency_layer_holds_exactly_the_locked_dependencies(
    layer_dirs: dict[str, Path],
) -> None:
    site = layer_dirs["dependencies"] / "python"
    for package in ("pynamodb", "jwcrypto", "aws_lambda_powertools", "pydantic_core", "boto3"):
        assert (site / package).is_dir(), package
    installed = {
        _normalize(name): version
        for name, version in (
            p.name.removesuffix(".dist-info").rsplit("-", 1) for p in site.glob("*.dist-info")
        )
    }
    assert installed == {_normalize(name): version for name, version in locked_versions().items()}


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


def test_layers_fit_lambdas_size_limit(layer_dirs: dict[str, Path]) -> None:
    assert sum(_size_mb(path) for path in layer_dirs.values()) < LAMBDA_LIMIT_MB - 20
