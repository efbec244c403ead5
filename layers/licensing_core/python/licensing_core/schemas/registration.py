"""Self-service registration."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from licensing_core.domain.emails import email_key
from licensing_core.schemas.base import (
    ApiModel,
    Email,
    RequestModel,
)
from licensing_core.schemas.fields import (
    Code,
)

# Self-service registration and end users


class RegisterPageQuery(RequestModel):
    """``GET /register``: other query parameters (``utm_*``...) are ignored, not refused."""

    model_config = ConfigDict(extra="ignore")

    product: Code = Field(description="Product code, e.g. `Rdn.Identity`.")
    tier: Code = Field(description="Tier code, e.g. `free`.")


class RegisterRequest(RequestModel):
    """A self-service registration (JSON, or an HTML form post with the same fields)."""

    email: Email
    email_confirmation: Email | None = Field(
        default=None, description="The email typed again (the page's form sends it): must match."
    )
    product_code: Code
    tier_code: Code

    @field_validator("email_confirmation")
    @classmethod
    def _confirmed(cls, value: str | None, info: ValidationInfo) -> str | None:
        email = info.data.get("email")
        if value is not None and email is not None and email_key(value) != email_key(email):
            raise ValueError("the two email addresses differ")
        return value


class RegistrationAccepted(ApiModel):
    """Always the same answer, whether or not the email already had an account."""

    claim_id: str
    status: Literal["pending"] = "pending"
    expires_at: datetime = Field(description="Until when the license can be claimed.")


class ClaimRequest(RequestModel):
    product_code: Code | None = Field(
        default=None,
        description="Which product's claim to take when several are pending (default: the "
        "most recent registration).",
    )
