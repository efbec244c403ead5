"""How the two layers' contents are built, without CDK (tests and the bench use it too).

- The dependency layer is ``pip install --require-hashes`` of the lock
  (``layers/dependencies/requirements.txt``) for a Lambda platform, wheels only, cached
  under ``.build/layers/<hash>/`` where the hash covers the lock's content, the platform,
  the Python version and this recipe: one hash, one layer, on any machine.
- The core layer is the ``licensing_core`` package as it is in the repository.

Both ship bytecode next to their sources, compiled by the runtime's Python version with
``unchecked-hash`` invalidation: Lambda's ``/opt`` is read-only, so a layer without
bytecode is compiled from source on every cold start, and CDK zips files with fixed
timestamps, which timestamp-checked bytecode would take for stale. Unchecked bytecode is
trusted as long as it exists: a layer is always rebuilt whole, never edited in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cdk.paths import BUILD_DIR, CORE_LAYER_DIR, LOCK, excluded

#: What Lambda's python3.11 runs on (Amazon Linux 2, glibc 2.26): pip's platform tags.
PIP_PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
#: The Python version every function runs (``cdk.layers.RUNTIME``): bytecode is for it.
PYTHON_VERSION = "3.11"
#: Bump when the build recipe below changes in a way that changes a layer's content.
RECIPE_VERSION = 2
#: Installed by pip but useless in a layer: console scripts, docs.
_PRUNED_DIRS = ("bin", "share")
#: Where Lambda extracts layers: the file names tracebacks show.
OPT_PYTHON = "/opt/python"


def machine_platform() -> str:
    """pip's platform tag for wheels that load on this machine (Linux only)."""
    return f"manylinux2014_{platform.machine()}"


def lock_hash(lock: Path = LOCK) -> str:
    """SHA-256 of the lock's content."""
    return hashlib.sha256(lock.read_bytes()).hexdigest()


def locked_versions(lock: Path = LOCK) -> dict[str, str]:
    """Normalized project name -> the version the lock pins."""
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", lock.read_text(), re.M)
    return {normalize(name): version for name, version in pins}


def normalize(name: str) -> str:
    """PEP 503 name: ``aws_lambda_powertools`` and ``AWS-Lambda-Powertools`` are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def bytecode_python(version: str = PYTHON_VERSION) -> str:
    """An interpreter of the runtime's version, whose bytecode the runtime loads (a
    different version's bytecode carries another magic number and would be ignored)."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is None:
        raise RuntimeError(
            f"the layers' bytecode is compiled by Python {version} (the Lambda runtime's "
            f"version); install python{version} or synthesize with it"
        )
    return found


def compile_bytecode(
    tree: Path, version: str = PYTHON_VERSION, deployed_as: str = OPT_PYTHON
) -> None:
    """Compile every ``.py`` under ``tree`` in place (file names as ``deployed_as``)."""
    argv = [
        *(bytecode_python(version), "-m", "compileall", "-q", "-j", "0"),
        *("--invalidation-mode", "unchecked-hash", "-s", str(tree), "-p", deployed_as),
        str(tree),
    ]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 - our argv


class DependencyLayerBuild:
    """The dependency layer for one platform: pip output of the lock, cached per hash."""

    def __init__(self, platform: str, version: str = PYTHON_VERSION, lock: Path = LOCK) -> None:
        self.platform = platform
        self.version = version
        self.lock = lock
        recipe = {
            "lock": lock_hash(lock),
            "platform": platform,
            "python": version,
            "recipe": RECIPE_VERSION,
        }
        self.hash = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()
        #: The asset's source: holds the lock (its visible recipe) and, once built, ``python/``.
        self.source_dir = BUILD_DIR / "layers" / self.hash[:32]

    def write_recipe(self) -> Path:
        """Copy the lock into the source directory."""
        self.source_dir.mkdir(parents=True, exist_ok=True)
        path = self.source_dir / "requirements.txt"
        text = self.lock.read_text()
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        return path

    def build(self) -> Path:
        """The cached ``python/`` tree, installed and compiled on first use."""
        target = self.source_dir / "python"
        if target.is_dir():
            return target
        requirements = self.write_recipe()
        staging = Path(tempfile.mkdtemp(prefix="python-", dir=self.source_dir))
        argv = [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--no-compile"),
            *("--disable-pip-version-check", "--only-binary=:all:", "--implementation", "cp"),
            *("--platform", self.platform, "--python-version", self.version),
            *("--require-hashes", "--target", str(staging), "--requirement", str(requirements)),
        ]
        try:
            subprocess.run(argv, check=True)  # noqa: S603 - our own argv, no shell
            _prune(staging)
            compile_bytecode(staging, self.version)
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # else another build won the race: use its tree
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target


def core_layer_hash(version: str = PYTHON_VERSION, source: Path = CORE_LAYER_DIR) -> str:
    """The core layer's asset hash: its source files, the bytecode's version, the recipe
    (not the built files: bytecode is not byte-for-byte reproducible across builds)."""
    digest = hashlib.sha256(f"{version}:{RECIPE_VERSION}".encode())
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and not excluded(relative):
            digest.update(f"\0{relative.as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build_core_layer(output_dir: Path, version: str = PYTHON_VERSION) -> Path:
    """Copy the core layer's files (no caches) into ``output_dir`` and compile them
    (only them: ``output_dir`` may hold the other layer's files too)."""
    for source in (CORE_LAYER_DIR / "python").iterdir():
        if excluded(Path(source.name)):
            continue
        target = output_dir / "python" / source.name
        if source.is_dir():
            shutil.copytree(
                source, target, ignore=lambda _, names: [n for n in names if excluded(Path(n))]
            )
            compile_bytecode(target, version, f"{OPT_PYTHON}/{source.name}")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return output_dir


def _prune(tree: Path) -> None:
    for name in _PRUNED_DIRS:
        shutil.rmtree(tree / name, ignore_errors=True)
    for cache in list(tree.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


def copy_tree(source: Path, target: Path) -> None:
    """Hard-link a built tree where possible (same filesystem), else copy it."""
    try:
        shutil.copytree(source, target, copy_function=os.link, dirs_exist_ok=True)
    except OSError:
        shutil.copytree(source, target, dirs_exist_ok=True)


def extract_opt(target: Path, platform: str | None = None) -> Path:
    """Both layers merged into ``target/python`` as Lambda extracts them into ``/opt``
    (the dependency layer for this machine's platform by default); returns that folder."""
    python = target / "python"
    copy_tree(DependencyLayerBuild(platform or machine_platform()).build(), python)
    build_core_layer(target)
    return python
