"""The route table is the single source of truth: every function has a row (a route, a
scheduled job or an identity-provider trigger) and vice versa."""

from __future__ import annotations

import re

from licensing_core.routes import (
    CONSUMERS,
    JOBS,
    ROUTES,
    TRIGGERS,
    Access,
    job_for,
    match,
    route_for,
)
from licensing_core.store.models import ALL_MODELS

from tests.support import ROOT


def test_every_function_folder_has_a_row_and_every_row_a_folder() -> None:
    folders = {
        p.name
        for p in (ROOT / "functions").iterdir()
        if p.is_dir() and not p.name.startswith(("_", "."))
    }
    functions = [row.function for row in (*ROUTES, *JOBS, *CONSUMERS, *TRIGGERS)]
    assert len(set(functions)) == len(functions), "a function serves two rows"
    assert folders == set(functions)
    for function in functions:
        assert (ROOT / "functions" / function / "handler.py").is_file()


def test_jobs_have_a_schedule_and_known_tables() -> None:
    known = {model.logical_name for model in ALL_MODELS}
    schedule = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$")
    for job in JOBS:
        assert schedule.match(job.schedule), job.function
        assert {name for name, _ in job.tables} <= known, job.function
    assert job_for("expire_claims").schedule == "rate(1 hour)"


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
    assert route_for("claim_license").access is Access.END_USER
    assert route_for("user_licenses").access is Access.END_USER


def test_only_declared_routes_take_forms_or_use_the_identity_provider() -> None:
    assert {r.function for r in ROUTES if r.form} == {"register"}
    assert {r.function: r.identity_provider for r in ROUTES if r.identity_provider} == {
        "register": "invite",
        "claim_license": "read",
        "deactivate_customer": "manage",
        "reactivate_customer": "manage",
    }


def test_match_finds_route_and_path_parameters() -> None:
    found = match("GET", "/products/prd_1")
    assert found and found[0].function == "get_product" and found[1] == {"productId": "prd_1"}


def test_match_distinguishes_unknown_path_from_wrong_method() -> None:
    assert match("DELETE", "/products") is False
    assert match("GET", "/nowhere") is None
    assert match("GET", "/products/a/b") is None
