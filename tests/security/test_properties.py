"""Seat accounting as a state machine (hypothesis), in process against moto.

Machines activate, re-activate, heartbeat, deactivate (twice, and with stale client ids),
fall silent past their token lifetime (clock jumps) and get their seats reclaimed, while
an administrator suspends, reinstates and revokes the license, in any order. After every
step the license's seat counter equals its live activations, equals the machine claims,
never exceeds ``maxUsers``, and each answer is the one the rules predict.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from licensing_core import schemas
from licensing_core.domain.ids import set_clock, utcnow
from licensing_core.services import licenses
from licensing_core.settings import reset_settings
from licensing_core.store.activations import license_activations, machine_key
from licensing_core.store.base import create_missing_tables
from licensing_core.store.models import ALL_MODELS, ActivationRecord, LicenseRecord, UniqueRecord
from moto import mock_aws

from tests.support import Response, invoke, seeded_license, seeded_tier

SEATS = 2
INTERVAL = 60
TTL = 120  # the shortest token lifetime a tier may have
MACHINES = ("m0", "m1", "m2", "m3")


@dataclass(frozen=True)
class Catalog:
    product_id: str
    tier_id: str


@pytest.fixture
def seat_catalog() -> Iterator[Catalog]:
    with mock_aws():
        reset_settings()
        create_missing_tables(ALL_MODELS)
        yield Catalog(
            *seeded_tier(
                "Props",
                SEATS,
                heartbeat=schemas.HeartbeatPolicy(interval_seconds=INTERVAL, ttl_seconds=TTL),
            )
        )


@dataclass
class Seat:
    client_id: str
    last_heartbeat: datetime


class SeatMachine(RuleBasedStateMachine):
    catalog: ClassVar[Catalog]

    def __init__(self) -> None:
        super().__init__()
        self.now = utcnow()
        set_clock(lambda: self.now)
        self.license_id, self.key_token = seeded_license(
            self.catalog.product_id, self.catalog.tier_id
        )
        self.status = "active"
        self.seats: dict[str, Seat] = {}
        self.stale: list[str] = []  # client ids replaced, freed or reclaimed

    def teardown(self) -> None:
        set_clock(None)

    # --- helpers ---------------------------------------------------------------------

    def dead(self, machine: str) -> bool:
        return self.now - self.seats[machine].last_heartbeat > timedelta(seconds=TTL)

    def post(self, path: str, body: dict[str, Any]) -> Response:
        return invoke("POST", path, body=body)

    # --- rules -----------------------------------------------------------------------

    @initialize()
    def fill_the_seats(self) -> None:
        """Start at the limit, where reclamation and refusals happen."""
        for machine in MACHINES[:SEATS]:
            self.activate(machine)

    @rule(machine=st.sampled_from(MACHINES))
    def activate(self, machine: str) -> None:
        reply = self.post(
            "/license-activations/activate", {"keyToken": self.key_token, "machineId": machine}
        )
        if self.status != "active":
            assert reply.status == 403 and reply.json["code"] == self.status.upper(), reply.text
            return
        if machine in self.seats:
            assert reply.status == 200, reply.text  # its own seat, renewed (revived if dead)
            event("activate: renewed" + (" a dead seat" if self.dead(machine) else ""))
            self.stale.append(self.seats[machine].client_id)
        elif len(self.seats) < SEATS:
            assert reply.status == 201, reply.text
        else:
            dead = [m for m in self.seats if self.dead(m)]
            if not dead:
                assert reply.status == 409 and reply.json["code"] == "SEAT_LIMIT_REACHED"
                event("activate: seat limit reached")
                return
            event("activate: dead seat reclaimed")
            assert reply.status == 201, reply.text
            oldest = min(self.seats[m].last_heartbeat for m in dead)
            candidates = {m for m in dead if self.seats[m].last_heartbeat == oldest}
            live = {record.machine_id for record in self.live_records()}
            [reclaimed] = set(self.seats) - live
            assert reclaimed in candidates, (reclaimed, candidates)
            self.stale.append(self.seats.pop(reclaimed).client_id)
        self.seats[machine] = Seat(reply.json["clientId"], self.now)

    @precondition(
        lambda self: (
            self.status == "active"
            and len(self.seats) == SEATS
            and any(self.dead(m) for m in self.seats)
        )
    )
    @rule()
    def newcomer_reclaims_a_dead_seat(self) -> None:
        self.activate(next(m for m in MACHINES if m not in self.seats))

    @precondition(lambda self: bool(self.seats))
    @rule(data=st.data())
    def heartbeat(self, data: st.DataObject) -> None:
        machine = data.draw(st.sampled_from(sorted(self.seats)))
        reply = self.post("/license-keys/heartbeat", {"clientId": self.seats[machine].client_id})
        if self.dead(machine):
            assert reply.status == 410 and reply.json["code"] == "ACTIVATION_DEAD", reply.text
            event("heartbeat: dead")
        elif self.status != "active":
            assert reply.status == 403 and reply.json["code"] == self.status.upper(), reply.text
        else:
            assert reply.status == 200, reply.text
            self.seats[machine].last_heartbeat = self.now

    @precondition(lambda self: bool(self.seats))
    @rule(data=st.data())
    def deactivate(self, data: st.DataObject) -> None:
        machine = data.draw(st.sampled_from(sorted(self.seats)))
        client_id = self.seats.pop(machine).client_id
        first = self.post("/license-activations/deactivate", {"clientId": client_id})
        assert first.status == 200 and first.json == {"deactivated": True}, first.text
        again = self.post("/license-activations/deactivate", {"clientId": client_id})
        assert again.status == 200 and again.json == {"deactivated": False}, again.text
        self.stale.append(client_id)

    @precondition(lambda self: bool(self.stale))
    @rule(data=st.data())
    def use_a_stale_client_id(self, data: st.DataObject) -> None:
        client_id = data.draw(st.sampled_from(self.stale))
        beat = self.post("/license-keys/heartbeat", {"clientId": client_id})
        assert beat.status in (404, 410), beat.text
        gone = self.post("/license-activations/deactivate", {"clientId": client_id})
        assert gone.json == {"deactivated": False}, gone.text

    @rule(seconds=st.sampled_from([INTERVAL, TTL + 1]))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @precondition(lambda self: self.status == "active")
    @rule()
    def suspend(self) -> None:
        licenses.suspend(self.license_id, schemas.StatusChange(reason="props"), actor="props")
        self.status = "suspended"

    @precondition(lambda self: self.status == "suspended")
    @rule()
    def reinstate(self) -> None:
        licenses.reinstate(self.license_id, schemas.Reinstate(reason="props"), actor="props")
        self.status = "active"

    @precondition(lambda self: self.status != "revoked")
    @rule()
    def revoke(self) -> None:
        licenses.revoke(self.license_id, schemas.StatusChange(reason="props"), actor="props")
        self.status = "revoked"

    # --- invariants ------------------------------------------------------------------

    def live_records(self) -> list[ActivationRecord]:
        return license_activations(self.license_id)

    @invariant()
    def seats_equal_live_activations(self) -> None:
        live = {record.machine_id: record for record in self.live_records()}
        counter = int(LicenseRecord.get(self.license_id, consistent_read=True).active_seats)
        assert counter == len(live) == len(self.seats) <= SEATS, (counter, live, self.seats)
        assert set(live) == set(self.seats)
        # one machine claim per live activation, pointing at it
        keys = {machine_key(self.license_id, machine): machine for machine in MACHINES}
        owners = {
            keys[claim.key]: claim.owner
            for claim in UniqueRecord.batch_get(list(keys), consistent_read=True)
        }
        assert owners == {machine: record.activation_id for machine, record in live.items()}


def test_seat_accounting_holds_in_any_order(seat_catalog: Catalog) -> None:
    SeatMachine.catalog = seat_catalog
    run_state_machine_as_test(
        SeatMachine,
        settings=settings(
            max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "25")),
            stateful_step_count=15,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
