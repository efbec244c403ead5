"""The route table is the single source of truth: every function has a row and vice versa."""

from __future__ import annotations

from licensing_core.routes import ROUTES, Access, match, route_for
from licensing_core.store.models import ALL_MODELS

from tests.support import ROOT


def test_every_function_folder_has_a_route_and_every_route_a_folder() -> None:
    folders = {
        p.name
        for p in (ROOT / "functions").iterdir()
        if p.is_dir() and not p.name.startswith(("_", "."))
    }
    assert folders == {route.function for route in ROUTES}
    for route in ROUTES:
        assert (ROOT / "functions" / route.function / "handler.py").is_file()


def test_routes_are_unique() -> None:
    assert len({r.route_key for r in ROUTES}) == len(ROUTES)
    assert len({r.function for r in ROUTES}) == len(ROUTES)


def test_routes_name_only_existing_tables() -> None:
    known = {model.logical_name for model in ALL_MODELS}
    for route in ROUTES:
        assert {name for name, _ in route.tables} <= known, route.function


def test_authenticated_routes_are_never_public_by_accident() -> None:
    assert route_for("create_product").access is Access.ADMIN
    assert route_for("jwks").access is Access.PUBLIC


def test_match_finds_route_and_path_parameters() -> None:
    found = match("GET", "/products/prd_1")
    assert found and found[0].function == "get_product" and found[1] == {"productId": "prd_1"}


def test_match_distinguishes_unknown_path_from_wrong_method() -> None:
    assert match("DELETE", "/products") is False
    assert match("GET", "/nowhere") is None
    assert match("GET", "/products/a/b") is None
