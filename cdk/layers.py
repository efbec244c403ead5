"""The two Lambda layers: ``licensing_core`` and its third-party dependencies.

The dependency layer is built by ``pip install --platform ... --only-binary=:all:`` on
this machine (no Docker). Its asset hash is the hash of its recipe (requirements,
platform, Python version), and pip's output is cached under ``.build/layers/<hash>/``,
so repeated synths copy instead of installing and work offline once built.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk.paths import ASSET_EXCLUDE, BUILD_DIR, CORE_LAYER_DIR, PYPROJECT

#: What every function runs on, and so what the layers are built for.
RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.ARM_64
_PIP_PLATFORMS = {  # Amazon Linux 2 (glibc 2.26) for python3.11
    lambda_.Architecture.ARM_64.name: "manylinux2014_aarch64",
    lambda_.Architecture.X86_64.name: "manylinux2014_x86_64",
}
#: Bump when the build recipe below changes in a way that changes the layer's content.
RECIPE_VERSION = 1
#: Installed by pip but useless in a layer: console scripts, docs, bytecode.
_PRUNED_DIRS = ("bin", "share")


def pip_platform(architecture: lambda_.Architecture = ARCHITECTURE) -> str:
    """The wheel platform tag for a Lambda architecture."""
    return _PIP_PLATFORMS[architecture.name]


def python_version(runtime: lambda_.Runtime = RUNTIME) -> str:
    """``3.11`` for ``python3.11``."""
    return runtime.name.removeprefix("python")


def runtime_requirements(pyproject: Path = PYPROJECT) -> tuple[str, ...]:
    """``[project] dependencies`` of the project, sorted: the layer's requirement list."""
    with pyproject.open("rb") as file:
        dependencies: list[str] = tomllib.load(file)["project"]["dependencies"]
    return tuple(sorted(dependencies))


@jsii.implements(ILocalBundling)
class PipLayerBundler:
    """Installs requirements for the Lambda platform with the local pip, cached per recipe."""

    def __init__(self, requirements: Sequence[str], platform: str, version: str) -> None:
        self.requirements = tuple(requirements)
        self.platform = platform
        self.version = version
        recipe = {
            "requirements": sorted(self.requirements),
            "platform": platform,
            "python": version,
            "recipe": RECIPE_VERSION,
        }
        self.hash = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()
        #: The asset's source: holds ``requirements.txt`` and, once built, ``python/``.
        self.source_dir = BUILD_DIR / "layers" / self.hash[:32]

    def write_requirements(self) -> Path:
        """Write the requirement list into the source directory (the asset's visible recipe)."""
        self.source_dir.mkdir(parents=True, exist_ok=True)
        path = self.source_dir / "requirements.txt"
        text = "".join(f"{line}\n" for line in self.requirements)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        return path

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        """Called by CDK instead of Docker: fill ``output_dir/python`` from the cache."""
        _copy_tree(self.build(), Path(output_dir) / "python")
        return True

    def build(self) -> Path:
        """The cached ``python/`` tree, installed by pip on first use."""
        target = self.source_dir / "python"
        if target.is_dir():
            return target
        requirements = self.write_requirements()
        staging = Path(tempfile.mkdtemp(prefix="python-", dir=self.source_dir))
        argv = [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--no-compile"),
            *("--disable-pip-version-check", "--only-binary=:all:", "--implementation", "cp"),
            *("--platform", self.platform, "--python-version", self.version),
            *("--target", str(staging), "--requirement", str(requirements)),
        ]
        try:
            subprocess.run(argv, check=True)  # noqa: S603 - our own argv, no shell
            _prune(staging)
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # else another synth won the race: use its build
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target


def _prune(tree: Path) -> None:
    for name in _PRUNED_DIRS:
        shutil.rmtree(tree / name, ignore_errors=True)
    for cache in list(tree.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


def _copy_tree(source: Path, target: Path) -> None:
    """Hard-link the cached tree where possible (same filesystem), else copy it."""
    try:
        shutil.copytree(source, target, copy_function=os.link)
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)


class Layers(Construct):
    """The core layer (the ``licensing_core`` package) and the dependency layer."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.core = _layer(
            self,
            "Core",
            "licensing_core: the service's domain, store, tokens and HTTP edge",
            lambda_.Code.from_asset(str(CORE_LAYER_DIR), exclude=list(ASSET_EXCLUDE)),
        )
        bundler = PipLayerBundler(runtime_requirements(), pip_platform(), python_version())
        bundler.write_requirements()
        self.dependencies = _layer(
            self,
            "Dependencies",
            f"Third-party runtime dependencies, {bundler.platform}",
            lambda_.Code.from_asset(
                str(bundler.source_dir),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=bundler.hash,
                bundling=BundlingOptions(
                    # Never pulled: local bundling always succeeds or raises.
                    image=DockerImage.from_registry("unused-local-bundling-only"),
                    local=bundler,
                ),
            ),
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        """Both layers, in the order functions attach them."""
        return [self.core, self.dependencies]


def _layer(
    scope: Construct, construct_id: str, description: str, code: lambda_.Code
) -> lambda_.LayerVersion:
    return lambda_.LayerVersion(
        scope,
        construct_id,
        description=description,
        code=code,
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
    )
