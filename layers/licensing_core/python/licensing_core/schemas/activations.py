"""Machines as administrators and their owners see them."""

from __future__ import annotations

from datetime import datetime

from pydantic import (
    Field,
)

from licensing_core.schemas.base import ApiModel, Cursor, RequestModel


class ActivationView(ApiModel):
    activation_id: str
    machine_id: str
    encrypted: bool = Field(description="Whether its tokens are encrypted to a machine key.")
    source_ip: str | None = None
    user_agent: str | None = None
    hostname: str | None = None
    platform: str | None = None
    app_version: str | None = None
    name: str | None = None
    activated_at: datetime
    last_heartbeat_at: datetime
    heartbeats: int
    dead: bool = Field(description="Silent past its token lifetime: its seat can be reclaimed.")
    offline_until: datetime | None = Field(
        default=None, description="Its machine files hold the seat until then, heartbeats or not."
    )


class ActivationList(ApiModel):
    items: list[ActivationView]
    active_seats: int
    max_users: int


class OwnActivation(ActivationView):
    """One of the caller's machines, and the license it holds a seat of."""

    license_id: str
    product_id: str
    product_code: str


class OwnActivationPage(ApiModel):
    items: list[OwnActivation]
    next_cursor: str | None = Field(default=None, description="The machines of your next licenses.")


class OwnActivationQuery(RequestModel):
    limit: int = Field(
        default=10, ge=1, le=25, description="Licenses per page (1-25): all their machines."
    )
    cursor: Cursor | None = Field(default=None, description="`nextCursor` of the previous page.")
