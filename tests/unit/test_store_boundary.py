"""The store is the only code that knows DynamoDB. Import contracts keep PynamoDB and the
store's transactions out of the services (``sealed-store`` in pyproject.toml); this test
catches what an import check cannot: a service building a condition or an update
expression from a stored model's attributes (``LicenseRecord.status == "active"``,
``CustomerRecord.status.set(...)``). Records themselves are plain data to services.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import licensing_core.services
import pytest
from licensing_core.store import models
from pynamodb.models import Model

SERVICES = Path(licensing_core.services.__file__).parent
MODELS = frozenset(
    name
    for name in models.__all__
    if inspect.isclass(value := getattr(models, name)) and issubclass(value, Model)
)


def _model_attribute(node: ast.AST) -> bool:
    """``SomeRecord.attribute``: a stored model's attribute, not a record's value."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in MODELS
    )


def expressions(source: str) -> list[str]:
    """Conditions and update actions built from model attributes in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _model_attribute(node.value):
            found.append(ast.unparse(node))  # SomeRecord.attribute.set / .does_not_exist ...
        elif isinstance(node, ast.Compare) and any(
            _model_attribute(operand) for operand in [node.left, *node.comparators]
        ):
            found.append(ast.unparse(node))
    return found


@pytest.mark.parametrize("module", sorted(SERVICES.glob("*.py")), ids=lambda path: path.name)
def test_no_service_builds_a_storage_expression(module: Path) -> None:
    assert expressions(module.read_text()) == []


def test_the_check_sees_conditions_and_actions() -> None:
    source = (
        "LicenseRecord.status == 'active'\n"
        "'x' < CustomerRecord.email\n"
        "[CustomerRecord.status.set('x'), UniqueRecord.key.does_not_exist()]\n"
        "record.status == 'active'\n"  # a record's value: plain data
        "LicenseRecord.get('lic')\n"  # a read (the store's business, but no expression)
    )
    assert expressions(source) == [
        "LicenseRecord.status == 'active'",
        "'x' < CustomerRecord.email",
        "CustomerRecord.status.set",
        "UniqueRecord.key.does_not_exist",
    ]
