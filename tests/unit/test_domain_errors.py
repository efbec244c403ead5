"""Business errors live in one place (``domain/errors.py``), and the HTTP edge's own
problems are no business errors."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import licensing_core
from licensing_core.domain import errors
from licensing_core.http.problems import HttpProblem, from_error, status_of

from tests.support import ROOT

LAYER = Path(licensing_core.__file__).parent
HOME = LAYER / "domain" / "errors.py"
#: Every module that could define an error: the layer, the handlers, the local server, the CLI.
SOURCES = sorted(
    path
    for folder in (LAYER, ROOT / "functions", ROOT / "local", ROOT / "cli" / "licensing_cli")
    for path in folder.rglob("*.py")
)


def _subclasses(cls: type[Exception]) -> Iterator[type[Exception]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def domain_errors() -> set[type[Exception]]:
    """Every ``DomainError`` subclass the package defines, once all its modules loaded."""
    for module in pkgutil.walk_packages(licensing_core.__path__, "licensing_core."):
        importlib.import_module(module.name)
    return {
        cls for cls in _subclasses(errors.DomainError) if cls.__module__.startswith("licensing")
    }


def test_every_domain_error_is_defined_in_domain_errors() -> None:
    found = domain_errors()
    assert {errors.SeatLimitReached, errors.KeyRefused, errors.QuotaExceeded} <= found
    elsewhere = sorted(
        f"{c.__module__}.{c.__qualname__}" for c in found if c.__module__ != errors.__name__
    )
    assert not elsewhere, f"define business errors in domain/errors.py: {elsewhere}"


def subclassed(path: Path, names: set[str]) -> set[str]:
    """The classes ``path`` defines on an error of ``names`` imported from
    ``domain/errors.py`` (``Name`` or ``errors.Name``), or on such a class of its own."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bare, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == errors.__name__:
            bare |= {alias.asname or alias.name for alias in node.names if alias.name in names}
        elif isinstance(node, ast.ImportFrom) and node.module == "licensing_core.domain":
            modules |= {
                alias.asname or alias.name for alias in node.names if alias.name == "errors"
            }
    if path == HOME:
        bare = set(names)
    found: set[str] = set()
    classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    while True:  # until no class is added: one on a class found here counts too
        more = {
            node.name
            for node in classes
            for base in node.bases
            if (isinstance(base, ast.Name) and base.id in bare | found)
            or (
                isinstance(base, ast.Attribute)
                and isinstance(base.value, ast.Name)
                and base.value.id in modules
                and base.attr in names
            )
        }
        if more <= found:
            return found
        found |= more


def test_no_source_file_but_domain_errors_subclasses_an_error_of_the_domain() -> None:
    """The same rule read from the source, for modules no import reaches (handlers,
    the local server, the CLI)."""
    names = {cls.__name__ for cls in domain_errors()} | {"DomainError"}
    assert subclassed(HOME, names) == names - {"DomainError"}, (
        "the scan misses classes: fix subclassed"
    )
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in SOURCES
        if path != HOME
        for name in sorted(subclassed(path, names))
    ]
    assert not offenders, f"define business errors in domain/errors.py: {offenders}"


def test_an_http_problem_is_no_domain_error_and_answers_with_its_own_status() -> None:
    assert not issubclass(HttpProblem, errors.DomainError)
    problem = HttpProblem(
        409, "REQUEST_IN_PROGRESS", "Request in progress", "still running", retryAfterSeconds=1
    )
    assert status_of(problem) == 409
    response = from_error(problem, request_id="r-1", base_url="https://api.test", instance="/x")
    assert response["statusCode"] == 409
    assert response["headers"]["retry-after"] == "1"
    assert "www-authenticate" not in response["headers"]
    assert json.loads(response["body"]) == {
        "retryAfterSeconds": 1,
        "type": "https://api.test/problems/request-in-progress",
        "title": "Request in progress",
        "status": 409,
        "detail": "still running",
        "code": "REQUEST_IN_PROGRESS",
        "requestId": "r-1",
        "instance": "/x",
    }
