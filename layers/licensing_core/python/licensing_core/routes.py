"""The route table: the single declaration of every endpoint.

CDK builds one Lambda and one HTTP API route per row, the local server dispatches
from it, the endpoint wrapper reads it to parse, authorize and serialize, and the
OpenAPI document is generated from it. Adding an endpoint means one row here and
one thin ``functions/<function>/handler.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Literal

from licensing_core import schemas as s

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
TableAccess = Literal["read", "write"]
#: What a function does with the token-signing key: publish/verify with the public
#: half, or sign (KMS ``kms:Sign`` is granted only to the latter).
KeyUse = Literal["verify", "sign"]

_PATH_PARAM = re.compile(r"{([A-Za-z][A-Za-z0-9]*)}")


class Access(StrEnum):
    """Who may call a route."""

    PUBLIC = "public"  #: anyone, no credentials
    APPLICATION = "application"  #: a licensed application, with the key or clientId it holds
    ADMIN = "admin"  #: an OIDC bearer in the admin group
    END_USER = "end-user"  #: any verified OIDC bearer (the caller's own data only)


@dataclass(frozen=True)
class Route:
    method: HttpMethod
    path: str
    function: str
    summary: str
    access: Access
    request: type[s.RequestModel] | None = None
    query: type[s.RequestModel] | None = None
    response: type[s.ApiModel] | None = None
    status: int = 200
    media_type: str = "application/json"
    #: Name of the action in the step-up policy; None where no step-up applies.
    step_up: str | None = None
    #: Tables (logical names) the function may touch, and how: CDK grants exactly these.
    tables: tuple[tuple[str, TableAccess], ...] = ()
    signing_key: KeyUse | None = None
    tag: str = "default"

    @cached_property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAM.findall(self.path))

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Matches a concrete path; path parameters are single non-empty segments."""
        parts = _PATH_PARAM.split(self.path)  # literal, name, literal, name, ..., literal
        regex = "".join(
            f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
            for index, part in enumerate(parts)
        )
        return re.compile(f"^{regex}$")

    @property
    def route_key(self) -> str:
        """The API Gateway HTTP API route key, e.g. ``GET /products/{productId}``."""
        return f"{self.method} {self.path}"


def _rw(*names: str) -> tuple[tuple[str, TableAccess], ...]:
    return tuple((name, "write") for name in names)


def _ro(*names: str) -> tuple[tuple[str, TableAccess], ...]:
    return tuple((name, "read") for name in names)


ROUTES: tuple[Route, ...] = (
    # Catalog
    Route(
        "POST",
        "/products",
        "create_product",
        "Create a product",
        Access.ADMIN,
        request=s.ProductCreate,
        response=s.Product,
        status=201,
        tables=_rw("products", "uniques"),
        tag="catalog",
    ),
    Route(
        "GET",
        "/products",
        "list_products",
        "List products",
        Access.ADMIN,
        query=s.PageQuery,
        response=s.ProductPage,
        tables=_ro("products"),
        tag="catalog",
    ),
    Route(
        "GET",
        "/products/{productId}",
        "get_product",
        "Read a product",
        Access.ADMIN,
        response=s.Product,
        tables=_ro("products"),
        tag="catalog",
    ),
    # Discovery
    Route(
        "GET",
        "/.well-known/jwks.json",
        "jwks",
        "Public keys that verify our tokens",
        Access.PUBLIC,
        response=s.JwkSet,
        signing_key="verify",
        tag="discovery",
    ),
    Route(
        "GET",
        "/.well-known/license-configuration",
        "license_configuration",
        "Discovery document for clients",
        Access.PUBLIC,
        response=s.LicenseConfiguration,
        tag="discovery",
    ),
    Route(
        "GET",
        "/openapi.json",
        "openapi",
        "This API's OpenAPI document",
        Access.PUBLIC,
        response=s.OpenApiDocument,
        tag="discovery",
    ),
    Route(
        "GET",
        "/docs",
        "docs",
        "Interactive API documentation (Swagger UI)",
        Access.PUBLIC,
        media_type="text/html",
        tag="discovery",
    ),
)

_BY_FUNCTION = {route.function: route for route in ROUTES}


def route_for(function: str) -> Route:
    """The route served by ``functions/<function>``."""
    return _BY_FUNCTION[function]


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | Literal[False] | None:
    """Find the route for a request: ``(route, path params)``; ``False`` when the path
    exists under another method (405); ``None`` when nothing matches (404)."""
    path_exists = False
    for route in ROUTES:
        found = route.pattern.match(path)
        if found is None:
            continue
        if route.method == method:
            return route, found.groupdict()
        path_exists = True
    return False if path_exists else None
