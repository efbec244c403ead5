"""Every problem code the service can answer is in the one catalog, with a status that
agrees with the error mapping, and has a page at ``/problems/<slug>``."""

from __future__ import annotations

import ast
import html
import importlib
import pkgutil
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import licensing_core
import pytest
from licensing_core.domain import errors
from licensing_core.domain import licenses as rules
from licensing_core.http import problem_pages
from licensing_core.http.problem_catalog import BY_SLUG, CATALOG, slug
from licensing_core.http.problems import status_of

from tests.support import ROOT, invoke

LAYER = Path(licensing_core.__file__).parent
#: Where codes are written: the layer, the functions, and the local gateway.
SOURCES = sorted(
    [*LAYER.rglob("*.py"), *(ROOT / "functions").rglob("*.py"), ROOT / "local" / "gateway.py"]
)
#: ``code="X"``, ``code = "X"`` (a class's code), ``(400, "X"`` (HttpProblem and the
#: gateway's problems) and ``405: "X"`` (the gateway's protocol errors).
_CODE = r'"([A-Z][A-Z0-9_]+)"'
PATTERNS = (
    re.compile(rf"\bcode\s*=\s*{_CODE}"),
    re.compile(rf"\(\s*[1-5]\d\d,\s*{_CODE}"),
    re.compile(rf"\b[1-5]\d\d:\s*{_CODE}"),
)
#: Why a license key or machine token did not verify (``tokens/`` and the JOSE helpers,
#: ``jose.py``): the code of a refused key (a bearer token's reason stays in its detail:
#: that problem's code is INVALID_TOKEN).
TOKEN_ERROR = re.compile(rf"\bTokenError\(\s*{_CODE}")
#: Why a license is not usable (``rules.standing``): a refused key's code; VALID is none.
STANDING = {
    value
    for name, value in vars(rules).items()
    if name.isupper() and isinstance(value, str) and re.fullmatch(r"[A-Z_]+", value)
} - {rules.VALID}  # fmt: skip


def codes_in_source() -> dict[str, set[str]]:
    """Every code written in the source, with the files that write it."""
    found: dict[str, set[str]] = {}
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        verifies = path.parent.name == "tokens" or path == LAYER / "jose.py"
        patterns = (*PATTERNS, TOKEN_ERROR) if verifies else PATTERNS
        for pattern in patterns:
            for code in pattern.findall(text):
                found.setdefault(code, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_code_in_the_source_has_an_entry_and_every_entry_a_code() -> None:
    found = codes_in_source()
    assert {"MALFORMED_JSON", "SEAT_LIMIT_REACHED", "ROUTE_NOT_FOUND", "URI_TOO_LONG"} <= set(
        found
    ), "the scan finds nothing: fix PATTERNS"
    missing = {code: sorted(files) for code, files in found.items() if code not in CATALOG}
    missing |= {code: ["domain/licenses.py"] for code in STANDING - set(CATALOG)}
    assert not missing, f"describe these codes in http/problem_catalog.py: {missing}"
    stale = set(CATALOG) - set(found) - STANDING
    assert not stale, f"no code answers these any more; remove their entries: {stale}"


def _domain_errors() -> dict[str, type[errors.DomainError]]:
    for module in pkgutil.walk_packages(licensing_core.__path__, "licensing_core."):
        importlib.import_module(module.name)

    def subclasses(cls: type[errors.DomainError]) -> Iterator[type[errors.DomainError]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return {cls.__name__: cls for cls in subclasses(errors.DomainError)}


def _status(cls: type[errors.DomainError]) -> int:
    return status_of(cls.__new__(cls))


def _status_and_code(status: ast.expr, code: ast.expr) -> tuple[str, int] | None:
    if not (isinstance(status, ast.Constant) and isinstance(code, ast.Constant)):
        return None
    if (
        isinstance(status.value, int)
        and 100 <= status.value <= 599
        and isinstance(code.value, str)
        and re.fullmatch(r"[A-Z][A-Z0-9_]+", code.value)
    ):
        return code.value, status.value
    return None


def answered_statuses() -> Iterator[tuple[str, int, str]]:
    """``(code, status, where)`` wherever the source fixes both: a class's own code, an
    error class raised with ``code=``, ``(status, "CODE", ...)`` (HttpProblem, the
    gateway's problems) and ``{status: "CODE"}``."""
    classes = _domain_errors() | {"DomainError": errors.DomainError}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.name}:{getattr(node, 'lineno', 0)}"
            pairs: list[tuple[ast.expr, ast.expr]] = []
            if isinstance(node, ast.ClassDef) and node.name in classes:
                for item in node.body:
                    if (
                        isinstance(item, ast.Assign)
                        and [getattr(t, "id", None) for t in item.targets] == ["code"]
                        and isinstance(item.value, ast.Constant)
                    ):
                        yield item.value.value, _status(classes[node.name]), where
            elif isinstance(node, ast.Call | ast.Tuple):
                items = node.args if isinstance(node, ast.Call) else node.elts
                pairs = [(items[0], items[1])] if len(items) >= 2 else []
            elif isinstance(node, ast.Dict):
                pairs = [(k, v) for k, v in zip(node.keys, node.values, strict=True) if k]
            for status, code in pairs:
                if (found := _status_and_code(status, code)) is not None:
                    yield *found, where
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name in classes:
                for keyword in node.keywords:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        yield keyword.value.value, _status(classes[name]), where


def test_catalog_statuses_agree_with_the_error_mapping() -> None:
    checked = list(answered_statuses())
    assert len(checked) > 60, "the scan checks nothing: fix answered_statuses"
    wrong = [
        f"{where}: {code} is answered {status}, catalogued {CATALOG[code].statuses}"
        for code, status, where in checked
        if code in CATALOG and status not in CATALOG[code].statuses
    ]
    assert not wrong, wrong


def test_entries_are_titled_and_explained_in_a_paragraph() -> None:
    for code, entry in CATALOG.items():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", code), code
        assert entry.title and entry.title[0].isupper() and len(entry.title) <= 40, code
        assert entry.statuses and all(400 <= s <= 599 for s in entry.statuses), code
        assert 20 <= len(entry.explanation) <= 600 and "\n" not in entry.explanation, code
        assert entry.explanation.endswith("."), code
    assert len(BY_SLUG) == len(CATALOG), "two codes share a slug"


class Outline(HTMLParser):
    """The parts of a page a screen reader relies on."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.lang: str | None = None
        self.text: dict[str, str] = {}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        self._open = tag

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open in ("title", "h1"):
            self.text[self._open] = self.text.get(self._open, "") + data


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_every_entry_has_its_page(code: str) -> None:
    response = invoke("GET", f"/problems/{slug(code)}")
    assert response.status == 200, response.text
    headers = response.headers
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert (
        headers["content-security-policy"] == problem_pages.PAGE_HEADERS["content-security-policy"]
    )
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "script" not in response.text and headers["x-content-type-options"] == "nosniff"
    outline = Outline()
    outline.feed(response.text)
    entry = CATALOG[code]
    assert outline.lang == "en" and outline.tags.count("h1") == 1 and "main" in outline.tags
    assert outline.text["h1"] == entry.title and code in outline.text["title"]
    assert html.escape(entry.explanation) in response.text  # escaped: <token> is text
    assert all(str(status) in response.text for status in entry.statuses)


def test_the_pages_style_is_pinned_by_the_policy() -> None:
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(problem_pages.STYLE.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in problem_pages.PAGE_HEADERS["content-security-policy"]
    assert f"<style>{problem_pages.STYLE}</style>" in problem_pages.page("SEAT_LIMIT_REACHED")


@pytest.mark.parametrize("name", ["no-such-problem", "SEAT_LIMIT_REACHED", "seat_limit_reached"])
def test_an_unknown_slug_is_a_404_problem(name: str) -> None:
    response = invoke("GET", f"/problems/{name}")
    assert response.status == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json
    assert body["code"] == "NOT_FOUND" and body["requestId"]
    assert body["type"] == "https://api.test/problems/not-found"
