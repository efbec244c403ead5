"""What applications send and get to activate, renew and deactivate a machine. Plain
models (``licensing_core.plain``): these functions never import pydantic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from licensing_core.plain import Check, Doc, Extra, PlainModel, PlainRequest, Text
from licensing_core.schemas.fields import (
    ClientId,
    Code,
    MachineId,
    Region,
    TokenText,
    TokenType,
)


@dataclass(frozen=True, kw_only=True)
class PublicJwk(PlainModel):
    """An RSA public key as a JWK; unknown members are kept so private ones can be refused."""

    extra: ClassVar[Extra] = "allow"
    camel_case: ClassVar[bool] = False

    kty: str


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("only printable characters: no control, format or separator ones")
    return value


#: What a machine says of itself (hostname; platform or display name; app version):
#: printable text of bounded length, shown to administrators and the license's owner.
HostnameText = Annotated[str, Text(min_length=1, max_length=253), Check(_printable)]
MachineText = Annotated[str, Text(min_length=1, max_length=128), Check(_printable)]
VersionText = Annotated[str, Text(min_length=1, max_length=64), Check(_printable)]


@dataclass(frozen=True, kw_only=True)
class ActivateRequest(PlainRequest):
    key_token: TokenText
    machine_id: Annotated[MachineId, Doc("A stable id of the machine (printable ASCII).")]
    region: Annotated[
        Region | None,
        Doc(
            "Where the machine runs: a key limited to another region is refused "
            "(403 REGION_NOT_ALLOWED)."
        ),
    ] = None
    product: Annotated[
        Code | None,
        Doc(
            "The calling application's product code: keys of other "
            "products are refused (WRONG_AUDIENCE)."
        ),
    ] = None
    public_key: Annotated[
        Annotated[str, Text(max_length=16384)] | PublicJwk | None,
        Doc(
            "The machine's RSA public key (PEM or JWK, 2048+ bits): tokens are then "
            "encrypted to it (JWE RSA-OAEP + A256CBC-HS512)."
        ),
    ] = None
    hostname: Annotated[HostnameText | None, Doc("The machine's host name.")] = None
    platform: Annotated[
        MachineText | None, Doc("Its operating system, e.g. `Linux-6.8-x86_64`.")
    ] = None
    app_version: Annotated[
        VersionText | None, Doc("The version of the application activating.")
    ] = None
    name: Annotated[MachineText | None, Doc("A name for people to tell machines apart.")] = None


@dataclass(frozen=True, kw_only=True)
class MachineToken(PlainModel):
    token: str
    token_type: TokenType
    expires_at: datetime
    next_heartbeat_at: datetime


@dataclass(frozen=True, kw_only=True)
class Activation(MachineToken):
    activation_id: str
    client_id: Annotated[str, Doc("The machine's heartbeat credential: keep it secret.")]


@dataclass(frozen=True, kw_only=True)
class HeartbeatRequest(PlainRequest):
    client_id: ClientId


@dataclass(frozen=True, kw_only=True)
class DeactivateRequest(PlainRequest):
    client_id: ClientId


@dataclass(frozen=True, kw_only=True)
class Deactivation(PlainModel):
    deactivated: Annotated[bool, Doc("False when the activation was already gone.")]
