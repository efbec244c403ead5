"""The OpenAPI 3.1 document, generated from the route table and the API models.

The generated document is committed as ``licensing_core/openapi.json`` (served by
``GET /openapi.json``); a test fails when it drifts from the code.
Regenerate with ``make openapi`` (``python -m licensing_core.openapi --write``).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import DefsRef, GenerateJsonSchema, JsonSchemaMode

from licensing_core import __version__, schemas
from licensing_core.routes import ROUTES, Access, Route

COMMITTED = "openapi.json"
REF = "#/components/schemas/{model}"
PROBLEM = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}


def _models() -> list[tuple[type, JsonSchemaMode]]:
    pairs: dict[tuple[type, JsonSchemaMode], None] = {(schemas.Problem, "serialization"): None}
    for route in ROUTES:
        if route.request:
            pairs[(route.request, "validation")] = None
        if route.response:
            pairs[(route.response, "serialization")] = None
    return list(pairs)


def _query_parameters(model: type) -> list[dict[str, Any]]:
    schema = TypeAdapter(model).json_schema(by_alias=True)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": prop.pop("description", ""),
            "schema": prop,
        }
        for name, prop in schema["properties"].items()
    ]


def _problem_statuses(route: Route) -> list[int]:
    statuses = set()
    if route.request or route.query:
        statuses |= {400, 422}
    if route.request:
        statuses |= {413, 415}
    if route.access in (Access.ADMIN, Access.END_USER):
        statuses |= {401, 403}
    if route.path_params:
        statuses.add(404)
    if route.tables:
        statuses.add(503)
    if route.method == "POST" and route.tables:
        statuses.add(409)
    return sorted(statuses | {s for s in route.statuses if s >= 400})


def _operation(route: Route, refs: Mapping[tuple[Any, JsonSchemaMode], Any]) -> dict[str, Any]:
    success: dict[str, Any] = {"description": route.summary}
    if route.response:
        success["content"] = {
            "application/json": {"schema": refs[(route.response, "serialization")]}
        }
    elif route.media_type != "application/json":
        success["content"] = {route.media_type: {"schema": {"type": "string"}}}
    problem = (  # HTML pages may answer problems as pages; every route as problem+json
        {route.media_type: {"schema": {"type": "string"}}, **PROBLEM}
        if route.media_type == "text/html"
        else PROBLEM
    )
    operation: dict[str, Any] = {
        "operationId": route.function,
        "summary": route.summary,
        "tags": [route.tag],
        "x-access": route.access.value,
        "responses": {
            str(route.status): success,
            **{str(s): success for s in route.statuses if s < 400},
            **{
                str(s): {"description": "Problem", "content": problem}
                for s in _problem_statuses(route)
            },
        },
    }
    if route.step_up:
        operation["x-step-up"] = route.step_up
    if route.access in (Access.ADMIN, Access.END_USER):
        operation["security"] = [{"bearer": []}]
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._~-]{1,128}$"},
        }
        for name in route.path_params
    ]
    if route.query:
        parameters += _query_parameters(route.query)
    if route.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "A retry with the same key and body replays the first response.",
                "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,128}$"},
            }
        )
    if parameters:
        operation["parameters"] = parameters
    if route.request:
        schema = refs[(route.request, "validation")]
        media = (
            ["application/json", "application/x-www-form-urlencoded"]
            if route.form
            else ["application/json"]
        )
        operation["requestBody"] = {
            "required": True,
            "content": {name: {"schema": schema} for name in media},
        }
    return operation


def _schemas() -> tuple[dict[tuple[type, JsonSchemaMode], Any], dict[DefsRef, Any]]:
    """Each model's schema (a reference) and the definitions: pydantic models and plain
    ones (``licensing_core.plain``) alike."""
    inputs = [(model, mode, TypeAdapter(model).core_schema) for model, mode in _models()]
    return GenerateJsonSchema(by_alias=True, ref_template=REF).generate_definitions(inputs)


def build() -> dict[str, Any]:
    refs, definitions = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Licensing service",
            "version": __version__,
            "description": "Signed license keys, activations with seats, heartbeats, "
            "identity-first licensing and step-up authentication.",
        },
        "paths": paths,
        "components": {
            "schemas": definitions,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An OIDC access or ID token (Amazon Cognito by default).",
                }
            },
        },
    }


def api_table() -> str:
    """The README's API table (Markdown), one row per route, in route-table order."""
    rows = ["| Method | Path | Who | Step-up | What |", "|---|---|---|---|---|"]
    for route in ROUTES:
        step_up = f"`{route.step_up}`" if route.step_up else ""
        rows.append(
            f"| {route.method} | `{route.path}` | {route.access.value} | {step_up} | {route.summary} |"
        )
    return "\n".join(rows) + "\n"


def with_api_table(readme: str) -> str:
    """``readme`` with the table between its api-table markers regenerated."""
    start = readme.index("\n", readme.index("<!-- api-table")) + 1
    end = readme.index("<!-- /api-table -->")
    return readme[:start] + api_table() + readme[end:]


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


@functools.cache
def committed() -> str:
    """The committed document, as served."""
    return resources.files("licensing_core").joinpath(COMMITTED).read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="rewrite the committed document")
    parser.add_argument("--readme-table", action="store_true", help="print the README API table")
    args = parser.parse_args(argv)
    if args.readme_table:
        sys.stdout.write(api_table())
        return 0
    if args.write:
        target = Path(str(resources.files("licensing_core").joinpath(COMMITTED)))
        target.write_text(render(), encoding="utf-8")
        print(f"wrote {target}")
        readme = target.parents[4] / "README.md"
        if readme.is_file():
            readme.write_text(with_api_table(readme.read_text()), encoding="utf-8")
            print(f"updated the API table of {readme}")
        return 0
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
