"""Metered usage: reports and counters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    Field,
    StrictInt,
    model_validator,
)

from licensing_core.schemas.base import (
    ApiModel,
    FeatureKey,
    IdempotencyKey,
    RequestModel,
)
from licensing_core.schemas.fields import (
    ClientId,
    TokenText,
)


class UsageReport(RequestModel):
    """Usage of a metered quota, reported by an application for the identity it serves."""

    client_id: ClientId | None = Field(default=None, description="An activation's clientId.")
    key_token: TokenText | None = Field(default=None, description="Or the license key.")
    meter: FeatureKey = Field(description="A quota of the tier, e.g. `api_calls`.")
    quantity: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    idempotency_key: IdempotencyKey = Field(
        description="Unique per report: a retry with the same key counts once."
    )

    @model_validator(mode="after")
    def _one_credential(self) -> UsageReport:
        if (self.client_id is None) == (self.key_token is None):
            raise ValueError("give exactly one of clientId and keyToken")
        return self


class UsageResult(ApiModel):
    meter: str
    used: int
    limit: int
    remaining: int
    period_ends_at: datetime
    replayed: bool = Field(description="True when this idempotency key was already counted.")


class UsageCounter(ApiModel):
    license_id: str
    meter: str
    period: str
    used: int
    limit: int
    period_ends_at: datetime


class UsageList(ApiModel):
    items: list[UsageCounter]


class UsageQuery(RequestModel):
    periods: int = Field(
        default=1,
        ge=1,
        le=13,
        description="The current period and the `periods - 1` before it, by each meter's own "
        "period (months or days); counters are kept 400 days after their period.",
    )
