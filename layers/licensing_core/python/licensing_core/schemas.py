"""Request and response bodies of the public API (JSON, camelCase on the wire).

Requests forbid unknown fields, so ids, timestamps or counters can never be
mass-assigned. Services take and return these models; the HTTP edge serializes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Base of every body: camelCase aliases, Python names accepted too."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class RequestModel(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class PageQuery(RequestModel):
    limit: int = Field(default=50, ge=1, le=100, description="Page size (1-100).")
    cursor: Cursor | None = Field(default=None, description="`nextCursor` of the previous page.")


class ProductCreate(RequestModel):
    code: Code = Field(description="Stable product code; the `aud` of its license tokens.")
    name: Name
    description: Description | None = None


class Product(ApiModel):
    product_id: str
    code: str
    name: str
    description: str | None = None
    created_at: datetime
    updated_at: datetime


class ProductPage(ApiModel):
    items: list[Product]
    next_cursor: str | None = None


class Jwk(ApiModel):
    """A public RSA signing key (RFC 7517); private members are never present."""

    model_config = ConfigDict(alias_generator=None)

    kty: Literal["RSA"]
    kid: str
    use: Literal["sig"]
    alg: Literal["RS256"]
    n: str
    e: str


class JwkSet(ApiModel):
    keys: list[Jwk]


class LicenseConfiguration(ApiModel):
    """Discovery document: everything a client needs to verify and renew tokens."""

    model_config = ConfigDict(alias_generator=None)

    issuer: str
    jwks_uri: str
    validate_endpoint: str
    activation_endpoint: str
    deactivation_endpoint: str
    heartbeat_endpoint: str
    openapi_uri: str
    token_signing_alg_values_supported: list[str]
    token_encryption_alg_values_supported: list[str]
    token_encryption_enc_values_supported: list[str]
    token_types_supported: list[str]


class OpenApiDocument(ApiModel):
    """The OpenAPI 3.1 document of this API."""

    model_config = ConfigDict(extra="allow", alias_generator=None)

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


class FieldError(ApiModel):
    path: str = Field(description="Where the error is, e.g. `body.maxUsers`.")
    message: str
    type: str


class Problem(ApiModel):
    """An RFC 9457 problem; ``code`` is stable and meant for programs."""

    model_config = ConfigDict(extra="allow", alias_generator=None)

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable error code.")
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="Per-field errors (422).")
