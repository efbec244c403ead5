"""What applications send to validate a key, and get. Plain models
(``licensing_core.plain``): the function never imports pydantic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from licensing_core.plain import Doc, PlainModel, PlainRequest
from licensing_core.schemas.fields import Region, TokenText


@dataclass(frozen=True, kw_only=True)
class ValidateRequest(PlainRequest):
    key_token: TokenText
    region: Annotated[
        Region | None,
        Doc(
            "Where the license is being used: a key limited to another region "
            "is not valid (REGION_NOT_ALLOWED)."
        ),
    ] = None


@dataclass(frozen=True, kw_only=True)
class Validation(PlainModel):
    """An invalid key is not an error: ``valid`` is false and ``code`` says why."""

    valid: bool
    code: Annotated[str, Doc("VALID, or why not (see the README's validation codes).")]
    license_id: str | None = None
    claims: Annotated[dict[str, Any] | None, Doc("Only for a valid key.")] = None
    detail: str | None = None
