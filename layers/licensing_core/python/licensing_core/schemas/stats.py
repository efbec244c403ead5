"""Operator statistics."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
)

from licensing_core.schemas.base import ApiModel, Id, RequestModel


def _iso_day(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


#: A calendar day (UTC), ``2026-11-23``.
Day = Annotated[date, BeforeValidator(_iso_day)]


class StatsScope(RequestModel):
    product_id: Id | None = Field(default=None, description="One product (default: all).")
    tenant_id: Id | None = Field(
        default=None,
        description="One tenant (default: all; a tenant administrator's own tenant).",
    )


class StatsQuery(StatsScope):
    from_: Day | None = Field(
        default=None, alias="from", description="First day (UTC; default: `to` - 29 days)."
    )
    to: Day | None = Field(default=None, description="Last day (UTC; default: today).")
    interval: Literal["day"] = "day"


class StatsPoint(ApiModel):
    date: date
    activations: int
    deactivations: int
    reclaimed: int
    issued: int
    revoked: int
    suspended: int
    active_machines: int = Field(description="Machines holding a seat at the end of the day.")
    usage: dict[str, int] = Field(description="Quantity reported that day, by meter.")


class StatsSeries(ApiModel):
    product_id: str | None
    tenant_id: str | None
    from_: date = Field(alias="from")
    to: date
    interval: Literal["day"]
    points: list[StatsPoint]


class LicenseStatusCounts(ApiModel):
    active: int = 0
    suspended: int = 0
    revoked: int = 0


class LicenseTotals(ApiModel):
    by_status: LicenseStatusCounts
    by_tier: dict[str, LicenseStatusCounts] = Field(description="By tier id.")


class SeatCounts(ApiModel):
    used: int = Field(description="Seats held by machines (= activeMachines).")
    total: int = Field(description="Seats the active licenses grant (their tiers' maxUsers).")


class StatsSummary(ApiModel):
    product_id: str | None
    tenant_id: str | None
    licenses: LicenseTotals
    active_machines: int
    seats: SeatCounts
