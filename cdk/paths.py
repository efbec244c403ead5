"""Where the code lives, and what a code asset leaves out (no CDK import: tests use it)."""

from __future__ import annotations

from pathlib import Path

#: The repository root (this package sits in ``<root>/cdk``).
ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
CORE_LAYER_DIR = ROOT / "layers" / "licensing_core"
PYPROJECT = ROOT / "pyproject.toml"
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
