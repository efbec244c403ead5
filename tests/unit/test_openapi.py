"""The committed OpenAPI document is generated from the route table and must not drift."""

from __future__ import annotations

import json

from licensing_core import openapi
from licensing_core.routes import ROUTES, Access


def test_committed_document_matches_the_code() -> None:
    assert openapi.committed() == openapi.render(), "run `make openapi` and commit the result"


def test_every_route_is_documented_with_its_access() -> None:
    document = json.loads(openapi.committed())
    for route in ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        assert operation["operationId"] == route.function
        assert operation["x-access"] == route.access.value
        assert ("security" in operation) == (route.access in (Access.ADMIN, Access.END_USER))
        assert str(route.status) in operation["responses"]


def test_request_schemas_forbid_unknown_fields() -> None:
    schemas = json.loads(openapi.committed())["components"]["schemas"]
    assert schemas["ProductCreate"]["additionalProperties"] is False


def test_readme_api_table_matches_the_route_table() -> None:
    from tests.support import ROOT

    readme = (ROOT / "README.md").read_text()
    assert openapi.api_table() in readme, (
        "the README API table is stale: paste `python -m licensing_core.openapi --readme-table`"
    )
