"""The two Lambda layers: ``licensing_core`` and its third-party dependencies.

Both are built on this machine by local bundling (no Docker, see ``cdk.bundling``): the
dependency layer by ``pip install --require-hashes`` of the lock for the Lambda platform,
its asset hash derived from the lock, the platform and the Python version (its pip output
cached under ``.build/layers/<hash>/``, so repeated synths copy instead of installing and
work offline once built); the core layer from the package's sources. Both ship
``unchecked-hash`` bytecode beside their sources.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk.bundling import (
    PIP_PLATFORMS,
    DependencyLayerBuild,
    build_core_layer,
    copy_tree,
    core_layer_hash,
)
from cdk.paths import CORE_LAYER_DIR

#: What every function runs on, and so what the layers are built for.
RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.ARM_64
#: Set for every function, beside the settings. No pydantic plugin is used: pydantic
#: skips scanning every installed package's entry points for plugins when it builds its
#: first model (about 20-30 ms of a cold start, ``bench/RESULTS.md``).
RUNTIME_ENVIRONMENT = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}


def pip_platform(architecture: lambda_.Architecture = ARCHITECTURE) -> str:
    """The wheel platform tag for a Lambda architecture."""
    return PIP_PLATFORMS[architecture.name]


def python_version(runtime: lambda_.Runtime = RUNTIME) -> str:
    """``3.11`` for ``python3.11``."""
    return runtime.name.removeprefix("python")


@jsii.implements(ILocalBundling)
class _DependencyBundler:
    """Fills the asset with the cached pip output of the lock (CDK calls it, not Docker)."""

    def __init__(self, build: DependencyLayerBuild) -> None:
        self.build = build

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        copy_tree(self.build.build(), Path(output_dir) / "python")
        return True


@jsii.implements(ILocalBundling)
class _CoreBundler:
    """Copies the package's sources into the asset and compiles them."""

    def __init__(self, version: str) -> None:
        self.version = version

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        build_core_layer(Path(output_dir), self.version)
        return True


def _local_bundling(bundler: ILocalBundling) -> BundlingOptions:
    # The image is never pulled: local bundling always succeeds or raises.
    return BundlingOptions(
        image=DockerImage.from_registry("unused-local-bundling-only"), local=bundler
    )


class Layers(Construct):
    """The core layer (the ``licensing_core`` package) and the dependency layer."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        version = python_version()
        self.core = _layer(
            self,
            "Core",
            "licensing_core: the service's domain, store, tokens and HTTP edge",
            lambda_.Code.from_asset(
                str(CORE_LAYER_DIR),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=core_layer_hash(version),
                bundling=_local_bundling(_CoreBundler(version)),
            ),
        )
        build = DependencyLayerBuild(pip_platform(), version)
        build.write_recipe()
        self.dependencies = _layer(
            self,
            "Dependencies",
            f"Third-party runtime dependencies (locked), {build.platform}",
            lambda_.Code.from_asset(
                str(build.source_dir),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=build.hash,
                bundling=_local_bundling(_DependencyBundler(build)),
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
