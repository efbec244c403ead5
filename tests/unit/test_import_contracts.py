"""The import contracts (``[tool.importlinter]`` in pyproject.toml) have teeth.

``lint-imports`` runs in ``make lint`` on the real code; here it runs, with the project's
own pyproject.toml, on a small package tree built from the contracts' layer names: every
contract is kept while each layer imports only the layer below it, and each one breaks
on the import that goes against it (upward, between siblings, an AWS or JOSE library in
the domain, even through another module, a handler reaching the store itself, a service
importing PynamoDB or the store's transactions, a transaction importing metrics).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS: dict[str, str] = {contract["id"]: contract["name"] for contract in CONFIG["contracts"]}
LAYERS: list[list[str]] = [
    [name.strip() for name in layer.split("|")]
    for layer in next(c for c in CONFIG["contracts"] if c["type"] == "layers")["layers"]
]
#: The libraries the fixture's adapters use, as the real ones do (every library that a
#: forbidden contract names is then in the graph).
ADAPTER_IMPORTS = {
    "licensing_core.store": ["pynamodb", "boto3"],
    "licensing_core.events": ["botocore"],
    "licensing_core.telemetry": ["aws_lambda_powertools"],
    "licensing_core.tokens": ["jwcrypto", "cryptography", "azure"],
}
#: Modules the contracts name below a layer (``licensing_core.store.transaction``): in the
#: tree as in the code.
NAMED = sorted(
    module
    for contract in CONFIG["contracts"]
    for module in [*contract.get("source_modules", []), *contract.get("forbidden_modules", [])]
    if module.startswith("licensing_core.") and module.count(".") > 1
)
#: One import against each contract, each breaking that contract only.
VIOLATIONS = {
    "licensing_core.domain.upward": ["licensing_core.services"],
    "licensing_core.store.sideways": ["licensing_core.tokens"],
    "licensing_core.domain.indirect": ["licensing_core.settings.aws_config"],
    "licensing_core.settings.aws_config": ["botocore"],
    "licensing_core.domain.signing": ["jwcrypto"],
    "functions.activate.reach": ["licensing_core.store"],
    "licensing_core.services.conditions": ["pynamodb"],
    "licensing_core.services.transact": ["licensing_core.store.transaction"],
    "licensing_core.store.transaction": ["licensing_core.telemetry"],
}
#: What the report of each contract says about them.
EXPECTED = {
    "layers": [
        "licensing_core.domain is not allowed to import licensing_core.services",
        "licensing_core.domain.upward -> licensing_core.services",
        "licensing_core.store is not allowed to import licensing_core.tokens",
        "licensing_core.store.sideways -> licensing_core.tokens",
    ],
    "domain-no-aws": [
        "licensing_core.domain is not allowed to import botocore",
        "licensing_core.domain.indirect -> licensing_core.settings.aws_config",
        "licensing_core.settings.aws_config -> botocore",
    ],
    "domain-pure": [
        "licensing_core.domain is not allowed to import jwcrypto",
        "licensing_core.domain.signing -> jwcrypto",
    ],
    "thin-handlers": [
        "functions is not allowed to import licensing_core.store",
        "functions.activate.reach -> licensing_core.store",
    ],
    "sealed-store": [
        "licensing_core.services is not allowed to import pynamodb",
        "licensing_core.services.conditions -> pynamodb",
        "licensing_core.services is not allowed to import licensing_core.store.transaction",
        "licensing_core.services.transact -> licensing_core.store.transaction",
    ],
    "plain-transactions": [
        "licensing_core.store.transaction is not allowed to import licensing_core.telemetry",
        "licensing_core.store.transaction -> licensing_core.telemetry",
    ],
}


def _write_tree(root: Path, imports: Mapping[str, list[str]]) -> None:
    """One file per module, importing what ``imports`` lists for it; every package has an
    ``__init__.py`` (empty) except ``functions``, a namespace as in the repository."""
    for module, targets in imports.items():
        parts = module.split(".")
        for depth in range(1, len(parts)):
            package = root.joinpath(*parts[:depth])
            package.mkdir(exist_ok=True)
            if parts[0] != "functions":
                (package / "__init__.py").touch()
        with root.joinpath(*parts[:-1], f"{parts[-1]}.py").open("a") as file:
            file.writelines(f"import {target}\n" for target in targets)


def _downward_imports() -> dict[str, list[str]]:
    """A handler and, in each layer module, a ``down`` module importing every module of the
    layer below, and an ``adapter`` module importing the libraries it wraps."""
    imports: dict[str, list[str]] = {}
    for upper, lower in zip(LAYERS, [*LAYERS[1:], []], strict=True):
        for module in upper:
            imports[f"{module}.activate.handler" if module == "functions" else f"{module}.down"] = (
                lower
            )
            imports[f"{module}.adapter"] = ADAPTER_IMPORTS.get(module, [])
    imports.update((module, []) for module in NAMED)
    return imports


def _lint_imports(tree: Path, imports: Mapping[str, list[str]]) -> tuple[int, str]:
    _write_tree(tree, imports)
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603 (this virtualenv's lint-imports)
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "500", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    """lint-imports on the downward tree with every violation added."""
    imports = _downward_imports()
    for module, targets in VIOLATIONS.items():
        imports[module] = [*imports.get(module, []), *targets]
    return _lint_imports(tmp_path_factory.mktemp("broken"), imports)


def test_the_fixture_covers_every_contract() -> None:
    assert set(EXPECTED) == set(CONTRACTS), "give every import contract a case that breaks it"


def test_downward_imports_keep_every_contract(tmp_path: Path) -> None:
    code, output = _lint_imports(tmp_path, _downward_imports())
    assert code == 0, output
    for name in CONTRACTS.values():
        assert f"{name} KEPT" in output, output


@pytest.mark.parametrize("contract", sorted(EXPECTED))
def test_each_contract_breaks_on_an_import_against_it(
    broken: tuple[int, str], contract: str
) -> None:
    code, output = broken
    assert code == 1, output
    assert f"{CONTRACTS[contract]} BROKEN" in output, output
    for line in EXPECTED[contract]:
        assert line in output, output


def test_each_violation_breaks_only_its_contract(broken: tuple[int, str]) -> None:
    output = broken[1]
    assert f"Contracts: 0 kept, {len(CONTRACTS)} broken." in output, output
    assert output.count(" is not allowed to import ") == sum(
        line.count(" is not allowed to import ") for lines in EXPECTED.values() for line in lines
    ), output
