"""What applications send and get: validate, activate, heartbeat, deactivate, offline files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from licensing_core.schemas.base import (
    ApiModel,
    ClientId,
    Code,
    FileTtl,
    MachineId,
    Region,
    RequestModel,
    TokenText,
    TokenType,
)


class ValidateRequest(RequestModel):
    key_token: TokenText
    region: Region | None = Field(
        default=None,
        description="Where the license is being used: a key limited to another region "
        "is not valid (REGION_NOT_ALLOWED).",
    )


class Validation(ApiModel):
    """An invalid key is not an error: ``valid`` is false and ``code`` says why."""

    valid: bool
    code: str = Field(description="VALID, or why not (see the README's validation codes).")
    license_id: str | None = None
    claims: dict[str, Any] | None = Field(default=None, description="Only for a valid key.")
    detail: str | None = None


class PublicJwk(BaseModel):
    """An RSA public key as a JWK; unknown members are kept so private ones can be refused."""

    model_config = ConfigDict(extra="allow")

    kty: str


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("only printable characters: no control, format or separator ones")
    return value


#: What a machine says of itself (hostname; platform or display name; app version):
#: printable text of bounded length, shown to administrators and the license's owner.
HostnameText = Annotated[
    str, StringConstraints(min_length=1, max_length=253), AfterValidator(_printable)
]
MachineText = Annotated[
    str, StringConstraints(min_length=1, max_length=128), AfterValidator(_printable)
]
VersionText = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_printable)
]


class ActivateRequest(RequestModel):
    key_token: TokenText
    machine_id: MachineId = Field(description="A stable id of the machine (printable ASCII).")
    region: Region | None = Field(
        default=None,
        description="Where the machine runs: a key limited to another region is refused "
        "(403 REGION_NOT_ALLOWED).",
    )
    product: Code | None = Field(
        default=None,
        description="The calling application's product code: keys of other "
        "products are refused (WRONG_AUDIENCE).",
    )
    public_key: Annotated[str, StringConstraints(max_length=16384)] | PublicJwk | None = Field(
        default=None,
        description="The machine's RSA public key (PEM or JWK, 2048+ bits): tokens are then "
        "encrypted to it (JWE RSA-OAEP + A256CBC-HS512).",
    )
    hostname: HostnameText | None = Field(default=None, description="The machine's host name.")
    platform: MachineText | None = Field(
        default=None, description="Its operating system, e.g. `Linux-6.8-x86_64`."
    )
    app_version: VersionText | None = Field(
        default=None, description="The version of the application activating."
    )
    name: MachineText | None = Field(
        default=None, description="A name for people to tell machines apart."
    )


class MachineToken(ApiModel):
    token: str
    token_type: TokenType
    expires_at: datetime
    next_heartbeat_at: datetime


class Activation(MachineToken):
    activation_id: str
    client_id: str = Field(description="The machine's heartbeat credential: keep it secret.")


class HeartbeatRequest(RequestModel):
    client_id: ClientId


class DeactivateRequest(RequestModel):
    client_id: ClientId


class Deactivation(ApiModel):
    deactivated: bool = Field(description="False when the activation was already gone.")


class CheckoutRequest(RequestModel):
    client_id: ClientId
    ttl_seconds: FileTtl | None = Field(
        default=None, description="The file's lifetime; default the tier's `defaultTtlSeconds`."
    )


class OfflineActivationRequest(RequestModel):
    request: TokenText = Field(
        description="The activation request the SDK wrote: a JWS (`typ: "
        "activation-request+jwt`) signed by the machine's new key, carried in its `jwk` header."
    )
    ttl_seconds: FileTtl | None = Field(
        default=None, description="The file's lifetime; default the tier's `defaultTtlSeconds`."
    )


class BorrowRequest(RequestModel):
    client_id: ClientId
    seconds: FileTtl = Field(description="How long the seat is borrowed (the file's lifetime).")


class SeatProof(RequestModel):
    proof: TokenText = Field(
        description="A JWS by the machine's key over its activation id and the time "
        "(`typ: deactivation-proof+jwt`, or `return-proof+jwt` to return a borrowed seat)."
    )


class MachineFile(ApiModel):
    """A machine file: the license, signed for one machine, verifiable offline until
    `expiresAt` (and refused once its status list bit is set)."""

    activation_id: str
    machine_file: str = Field(
        description="A JWS (`typ: machine-file+jwt`), encrypted to the machine's key (JWE "
        "RSA-OAEP + A256CBC-HS512) when the activation has one."
    )
    file_type: TokenType
    mode: Literal["checkout", "offline", "borrow"]
    expires_at: datetime
