"""Where the code lives, and what a code asset leaves out (no CDK import: tests use it)."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

#: The repository root (this package sits in ``<root>/cdk``).
ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
CORE_LAYER_DIR = ROOT / "layers" / "licensing_core"
PYPROJECT = ROOT / "pyproject.toml"
#: The dependency layer's lock: ``pyproject.toml``'s runtime dependencies pinned, with the
#: hashes of their wheels (``make lock`` refreshes it).
LOCK = ROOT / "layers" / "dependencies" / "requirements.txt"
#: Build cache (gitignored): the dependency layer's pip output, one folder per recipe.
BUILD_DIR = ROOT / ".build"

#: Never part of a code asset (glob patterns, matched against every path component).
ASSET_EXCLUDE = (
    "__pycache__",
    "*.pyc",
    "*.egg-info",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
)


def excluded(path: Path) -> bool:
    """Whether a path is something code assets leave out (bytecode, caches, egg-info)."""
    return any(fnmatch(part, pattern) for part in path.parts for pattern in ASSET_EXCLUDE)
