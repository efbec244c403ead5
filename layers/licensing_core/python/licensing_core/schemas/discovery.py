"""Discovery documents, keys and problems."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    computed_field,
)

from licensing_core.schemas.base import ApiModel


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
    checkout_endpoint: str
    borrow_endpoint: str
    return_endpoint: str
    offline_activation_endpoint: str
    offline_deactivation_endpoint: str

    # The seed's names, kept for clients written against it: derived, so always equal.
    @computed_field(  # type: ignore[prop-decorator]
        description="Alias of `activation_endpoint`, kept for clients written against the seed."
    )
    @property
    def activate_endpoint(self) -> str:
        return self.activation_endpoint

    @computed_field(  # type: ignore[prop-decorator]
        description="Alias of `token_signing_alg_values_supported`, kept for clients written "
        "against the seed."
    )
    @property
    def signing_algorithms(self) -> list[str]:
        return list(self.token_signing_alg_values_supported)

    @computed_field(  # type: ignore[prop-decorator]
        description="`token_encryption_alg_values_supported` followed by "
        "`token_encryption_enc_values_supported` (key and content algorithms of machine "
        "tokens), kept for clients written against the seed."
    )
    @property
    def encryption_algorithms(self) -> list[str]:
        return [
            *self.token_encryption_alg_values_supported,
            *self.token_encryption_enc_values_supported,
        ]


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

    type: str = Field(
        description="URL of the page that explains the code: `/problems/<slug>` under this API."
    )
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable error code.")
    request_id: str = Field(
        alias="requestId",
        description="The request's id, as in the `apigw-requestid` response header: quote it "
        "to support to find the request in the logs.",
    )
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="Per-field errors (422).")
