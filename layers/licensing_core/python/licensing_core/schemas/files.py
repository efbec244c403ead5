"""What applications send and get for machine files (checkout, offline activation,
borrowed seats, signed seat returns). Plain models (``licensing_core.plain``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from licensing_core.plain import Doc, PlainModel, PlainRequest
from licensing_core.schemas.fields import (
    ClientId,
    FileTtl,
    TokenText,
    TokenType,
)

_DEFAULT_TTL = Doc("The file's lifetime; default the tier's `defaultTtlSeconds`.")


@dataclass(frozen=True, kw_only=True)
class CheckoutRequest(PlainRequest):
    client_id: ClientId
    ttl_seconds: Annotated[FileTtl | None, _DEFAULT_TTL] = None


@dataclass(frozen=True, kw_only=True)
class OfflineActivationRequest(PlainRequest):
    request: Annotated[
        TokenText,
        Doc(
            "The activation request the SDK wrote: a JWS (`typ: "
            "activation-request+jwt`) signed by the machine's new key, carried in its `jwk` "
            "header."
        ),
    ]
    ttl_seconds: Annotated[FileTtl | None, _DEFAULT_TTL] = None


@dataclass(frozen=True, kw_only=True)
class BorrowRequest(PlainRequest):
    client_id: ClientId
    seconds: Annotated[FileTtl, Doc("How long the seat is borrowed (the file's lifetime).")]


@dataclass(frozen=True, kw_only=True)
class SeatProof(PlainRequest):
    proof: Annotated[
        TokenText,
        Doc(
            "A JWS by the machine's key over its activation id and the time "
            "(`typ: deactivation-proof+jwt`, or `return-proof+jwt` to return a borrowed "
            "seat)."
        ),
    ]


@dataclass(frozen=True, kw_only=True)
class MachineFile(PlainModel):
    """A machine file: the license, signed for one machine, verifiable offline until
    `expiresAt` (and refused once its status list bit is set)."""

    activation_id: str
    machine_file: Annotated[
        str,
        Doc(
            "A JWS (`typ: machine-file+jwt`), encrypted to the machine's key (JWE "
            "RSA-OAEP + A256CBC-HS512) when the activation has one."
        ),
    ]
    file_type: TokenType
    mode: Literal["checkout", "offline", "borrow"]
    expires_at: datetime
