"""Statistics: the daily series and the standing counts, maintained from the audit and
usage streams by the rollup consumers (driven here from moto's streams as the deployed
mappings drive them), and the usage history of an identity."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from licensing_core.domain.ids import set_clock, utcnow
from licensing_core.store.models import StatsRecord

from tests.integration.conftest import CognitoPool, perpetual_key, tier_body
from tests.integration.rollup import Rollup
from tests.integration.test_tenancy import snapshot, tenant_admin
from tests.support import Response, invoke

Admin = Callable[..., Response]
POINT_COUNTS = ("activations", "deactivations", "reclaimed", "issued", "revoked", "suspended")


@pytest.fixture
def rollup(aws: CognitoPool) -> Rollup:
    return Rollup.start()


def point(series: dict[str, Any], day: date) -> dict[str, Any]:
    (found,) = [p for p in series["points"] if p["date"] == day.isoformat()]
    return found


def counts(found: dict[str, Any]) -> dict[str, int]:
    return {name: found[name] for name in POINT_COUNTS} | {"machines": found["activeMachines"]}


def activate(key: dict[str, Any], machine: str) -> str:
    answer = invoke(
        "POST",
        "/license-activations/activate",
        body={"keyToken": key["keyToken"], "machineId": machine},
    )
    assert answer.status == 201, answer.text
    client_id: str = answer.json["clientId"]
    return client_id


def report(client_id: str, quantity: int, key: str) -> None:
    body = {
        "clientId": client_id,
        "meter": "api_calls",
        "quantity": quantity,
        "idempotencyKey": key,
    }
    answer = invoke("POST", "/usage", body=body)
    assert answer.status == 200, answer.text


@pytest.fixture
def activity(admin: Admin, product: str, tiers: dict[str, str]) -> dict[str, str]:
    """Tenant T: two licenses (pro), three machines, one deactivated, 7 api_calls; one
    license suspended, then revoked. The default tenant: one enterprise license."""
    tenant = admin("POST", "/tenants", {"name": "Stats"}).json["tenantId"]
    ids = {"tenant": tenant}
    customer = admin(
        "POST", "/customers", {"email": "s@example.com", "name": "S", "tenantId": tenant}
    ).json["customerId"]
    other = admin(
        "POST", "/customers", {"email": "o@example.com", "name": "O", "tenantId": tenant}
    ).json["customerId"]
    first = perpetual_key(admin, product, tiers["pro"], customer)
    second = perpetual_key(admin, product, tiers["pro"], other)
    machines = [activate(first, "m1"), activate(first, "m2"), activate(second, "m3")]
    report(machines[0], 3, "a")
    report(machines[1], 4, "b")
    report(machines[0], 3, "a")  # a retry: counted once
    gone = invoke("POST", "/license-activations/deactivate", body={"clientId": machines[2]})
    assert gone.json == {"deactivated": True}
    path = f"/license-keys/{second['licenseId']}"
    assert admin("POST", f"{path}/suspend", {"reason": "unpaid"}).status == 200
    assert admin("POST", f"{path}/revoke", {"reason": "gone"}).status == 200
    solo = admin("POST", "/customers", {"email": "d@example.com", "name": "D"}).json["customerId"]
    perpetual_key(admin, product, tiers["enterprise"], solo)
    ids.update(first=first["licenseId"], second=second["licenseId"])
    return ids


def test_todays_point_counts_what_happened_in_each_scope(
    admin: Admin, product: str, activity: dict[str, str], rollup: Rollup
) -> None:
    rollup.drain()
    today = utcnow().date()
    expected = {
        "activations": 3, "deactivations": 1, "reclaimed": 0, "issued": 3, "revoked": 1,
        "suspended": 1, "machines": 2,
    }  # fmt: skip
    in_tenant = {**expected, "issued": 2}
    for query, wanted in (
        ({}, expected),
        ({"productId": product}, expected),
        ({"tenantId": activity["tenant"]}, in_tenant),
        ({"productId": product, "tenantId": activity["tenant"]}, in_tenant),
        ({"tenantId": "default"}, {**dict.fromkeys(expected, 0), "issued": 1}),
    ):
        answer = admin("GET", "/stats", query=query)
        assert answer.status == 200, answer.text
        series = answer.json
        assert len(series["points"]) == 30 and series["to"] == today.isoformat()
        found = point(series, today)
        assert counts(found) == wanted, query
        assert found["usage"] == ({"api_calls": 7} if wanted["activations"] else {}), query
        yesterday = point(series, today - timedelta(days=1))
        assert counts(yesterday) == dict.fromkeys(wanted, 0)


def test_redelivered_records_are_counted_once(
    admin: Admin, activity: dict[str, str], rollup: Rollup
) -> None:
    rollup.drain()
    before = admin("GET", "/stats").json, admin("GET", "/stats/summary").json
    rollup.redeliver()
    rollup.redeliver()
    assert (admin("GET", "/stats").json, admin("GET", "/stats/summary").json) == before


def test_the_summary_counts_licenses_machines_and_seats(
    admin: Admin, product: str, tiers: dict[str, str], activity: dict[str, str], rollup: Rollup
) -> None:
    rollup.drain()
    everything = admin("GET", "/stats/summary").json
    assert everything["licenses"]["byStatus"] == {"active": 2, "suspended": 0, "revoked": 1}
    assert everything["licenses"]["byTier"] == {
        tiers["pro"]: {"active": 1, "suspended": 0, "revoked": 1},
        tiers["enterprise"]: {"active": 1, "suspended": 0, "revoked": 0},
    }
    assert everything["activeMachines"] == 2
    assert everything["seats"] == {"used": 2, "total": 5 + 50}
    tenant = admin("GET", "/stats/summary", query={"tenantId": activity["tenant"]}).json
    assert tenant["seats"] == {"used": 2, "total": 5}
    assert tenant["licenses"]["byStatus"] == {"active": 1, "suspended": 0, "revoked": 1}
    path = f"/license-keys/{activity['first']}"
    assert admin("POST", f"{path}/suspend", {"reason": "unpaid"}).status == 200
    rollup.drain()
    suspended = admin("GET", "/stats/summary", query={"productId": product}).json
    assert suspended["licenses"]["byStatus"] == {"active": 1, "suspended": 1, "revoked": 1}
    assert suspended["seats"]["total"] == 50  # a suspended license grants nothing
    assert admin("POST", f"{path}/reinstate", {}).status == 200
    rollup.drain()
    assert admin("GET", "/stats/summary").json == everything


def test_active_machines_is_a_level_carried_across_days(
    admin: Admin, product: str, tiers: dict[str, str], rollup: Rollup
) -> None:
    start = datetime.combine(utcnow().date() - timedelta(days=6), datetime.min.time(), UTC)
    set_clock(lambda: start + timedelta(hours=9))
    customer = admin("POST", "/customers", {"email": "l@example.com", "name": "L"}).json
    key = perpetual_key(admin, product, tiers["pro"], customer["customerId"])
    first, second = activate(key, "m1"), activate(key, "m2")
    set_clock(lambda: start + timedelta(days=2, hours=9))
    invoke("POST", "/license-activations/deactivate", body={"clientId": first})
    set_clock(lambda: start + timedelta(days=4, hours=9))
    invoke("POST", "/license-activations/deactivate", body={"clientId": second})
    activate(key, "m3")
    set_clock(None)
    rollup.drain()
    days = [start.date() + timedelta(days=n) for n in range(-1, 7)]
    series = admin("GET", "/stats", query={"from": str(days[0]), "to": str(days[-1])}).json
    assert [p["date"] for p in series["points"]] == [d.isoformat() for d in days]
    assert [p["activeMachines"] for p in series["points"]] == [0, 2, 2, 1, 1, 1, 1, 1]
    assert [p["activations"] for p in series["points"]] == [0, 2, 0, 0, 0, 1, 0, 0]
    assert [p["deactivations"] for p in series["points"]] == [0, 0, 0, 1, 0, 1, 0, 0]
    middle = admin("GET", "/stats", query={"from": str(days[2]), "to": str(days[3])}).json
    assert [p["activeMachines"] for p in middle["points"]] == [2, 1]


def test_a_tenant_admin_sees_only_its_tenant(
    aws: CognitoPool, admin: Admin, activity: dict[str, str], rollup: Rollup
) -> None:
    rollup.drain()
    token = tenant_admin(aws, activity["tenant"])
    own = invoke("GET", "/stats", token=token)
    assert own.status == 200 and own.json["tenantId"] == activity["tenant"]
    named = invoke("GET", "/stats", query={"tenantId": activity["tenant"]}, token=token)
    assert named.json == own.json
    assert point(own.json, utcnow().date())["issued"] == 2  # not the default tenant's
    summary = invoke("GET", "/stats/summary", token=token)
    assert summary.json["licenses"]["byStatus"] == {"active": 1, "suspended": 0, "revoked": 1}
    for path in ("/stats", "/stats/summary"):
        other = invoke("GET", path, query={"tenantId": "default"}, token=token)
        assert (other.status, other.json["code"]) == (422, "TENANT_NOT_FOUND"), other.text


@pytest.fixture
def frozen_today() -> Iterator[date]:
    set_clock(lambda: datetime(2026, 12, 5, 12, tzinfo=UTC))
    yield date(2026, 12, 5)
    set_clock(None)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"from": "2026-13-01"}, "VALIDATION_FAILED"),
        ({"to": "yesterday"}, "VALIDATION_FAILED"),
        ({"from": "2026-12-01T00:00:00"}, "VALIDATION_FAILED"),
        ({"from": "1700000000"}, "VALIDATION_FAILED"),
        ({"interval": "hour"}, "VALIDATION_FAILED"),
        ({"productId": "a/b"}, "VALIDATION_FAILED"),
        ({"unknown": "1"}, "VALIDATION_FAILED"),
        ({"from": "2026-12-05", "to": "2026-12-04"}, "INVALID_RANGE"),
        ({"to": "2026-12-06"}, "INVALID_RANGE"),
        ({"from": "2025-12-04", "to": "2026-12-05"}, "RANGE_TOO_LONG"),
        ({"from": "2025-10-31", "to": "2025-11-30"}, "RANGE_TOO_OLD"),
        ({"productId": "prd_missing"}, "PRODUCT_NOT_FOUND"),
        ({"tenantId": "tnt_missing"}, "TENANT_NOT_FOUND"),
    ],
)
def test_bad_ranges_and_scopes_are_422_with_a_code_and_change_nothing(
    admin: Admin, product: str, frozen_today: date, query: dict[str, str], code: str
) -> None:
    before = snapshot()
    answer = admin("GET", "/stats", query=query)
    assert (answer.status, answer.json["code"]) == (422, code), answer.text
    if set(query) & {"productId", "tenantId", "unknown"}:
        summary = admin("GET", "/stats/summary", query=query)
        assert (summary.status, summary.json["code"]) == (422, code), summary.text
    assert snapshot() == before


def test_the_longest_and_oldest_ranges_are_served(admin: Admin, frozen_today: date) -> None:
    year = admin("GET", "/stats", query={"from": "2025-12-05", "to": "2026-12-05"}).json
    assert len(year["points"]) == 366
    oldest = admin("GET", "/stats", query={"from": "2025-10-31", "to": "2025-11-30"})
    assert oldest.json["code"] == "RANGE_TOO_OLD" and oldest.json["oldest"] == "2025-11-01"
    kept = admin("GET", "/stats", query={"from": "2025-11-01", "to": "2025-11-30"}).json
    assert kept["points"][0] == {
        "date": "2025-11-01",
        **dict.fromkeys(POINT_COUNTS, 0),
        "activeMachines": 0,
        "usage": {},
    }


def test_reading_statistics_writes_nothing(
    admin: Admin, activity: dict[str, str], rollup: Rollup
) -> None:
    rollup.drain()
    rows = sorted(repr(r.attribute_values) for r in StatsRecord.scan())
    admin("GET", "/stats")
    admin("GET", "/stats/summary")
    assert sorted(repr(r.attribute_values) for r in StatsRecord.scan()) == rows


def test_validation_and_heartbeats_add_nothing_to_the_streams(
    admin: Admin, product: str, tiers: dict[str, str], rollup: Rollup
) -> None:
    """The hot paths write no statistics: nothing reaches the rollup from them."""
    customer = admin("POST", "/customers", {"email": "h@example.com", "name": "H"}).json
    key = perpetual_key(admin, product, tiers["pro"], customer["customerId"])
    client_id = activate(key, "m1")
    rollup.drain()
    cursors = {name: m.cursor.next_sequence for name, m in rollup.mappings.items()}
    for _ in range(3):
        invoke("POST", "/license-keys/validate", body={"keyToken": key["keyToken"]})
        assert invoke("POST", "/license-keys/heartbeat", body={"clientId": client_id}).status == 200
    for mapping in rollup.mappings.values():
        assert mapping.cursor.batch(1) == []
    assert {name: m.cursor.next_sequence for name, m in rollup.mappings.items()} == cursors


# --- Usage history ---------------------------------------------------------------------


@pytest.fixture
def metered(admin: Admin, product: str) -> dict[str, str]:
    """A license of a tier with a monthly and a daily meter, issued on 2026-10-01."""
    set_clock(lambda: datetime(2026, 10, 1, tzinfo=UTC))
    tier = admin(
        "POST",
        f"/products/{product}/tiers",
        tier_body(
            "metered",
            maxUsers=2,
            quotas={
                "api_calls": {"limit": 1000, "period": "month"},
                "exports": {"limit": 10, "period": "day"},
            },
        ),
    ).json["tierId"]
    customer = admin("POST", "/customers", {"email": "u@example.com", "name": "U"}).json
    key = perpetual_key(admin, product, tier, customer["customerId"])
    return {"customer": customer["customerId"], "key": key["keyToken"]}


def test_usage_history_returns_the_current_and_previous_periods_of_each_meter(
    admin: Admin, metered: dict[str, str]
) -> None:
    for moment, quantity in (
        (datetime(2026, 10, 31, 23, tzinfo=UTC), 1),
        (datetime(2026, 11, 30, 23, tzinfo=UTC), 2),
        (datetime(2026, 12, 4, 9, tzinfo=UTC), 3),
        (datetime(2026, 12, 5, 9, tzinfo=UTC), 4),
    ):
        set_clock(lambda moment=moment: moment)
        for meter in ("api_calls", "exports"):
            body = {"keyToken": metered["key"], "meter": meter, "quantity": quantity,
                    "idempotencyKey": f"{meter}-{moment.isoformat()}"}  # fmt: skip
            assert invoke("POST", "/usage", body=body).status == 200
    set_clock(lambda: datetime(2026, 12, 5, 12, tzinfo=UTC))

    path = f"/customers/{metered['customer']}/usage"

    def history(periods: int | None) -> list[tuple[str, str, int]]:
        query = None if periods is None else {"periods": str(periods)}
        answer = admin("GET", path, query=query)
        assert answer.status == 200, answer.text
        return [(c["meter"], c["period"], c["used"]) for c in answer.json["items"]]

    assert sorted(history(None)) == [("api_calls", "2026-12", 7), ("exports", "2026-12-05", 4)]
    assert history(None) == history(1)
    assert sorted(history(2)) == [
        ("api_calls", "2026-11", 2), ("api_calls", "2026-12", 7),
        ("exports", "2026-12-04", 3), ("exports", "2026-12-05", 4),
    ]  # fmt: skip
    assert sorted(history(3)) == [
        ("api_calls", "2026-10", 1), ("api_calls", "2026-11", 2), ("api_calls", "2026-12", 7),
        ("exports", "2026-12-04", 3), ("exports", "2026-12-05", 4),
    ]  # fmt: skip
    assert len(history(13)) == 6  # exports of 2026-11-30 too: 13 days back
    for bad in ("0", "14", "x", "1.5"):
        refused = admin("GET", path, query={"periods": bad})
        assert (refused.status, refused.json["code"]) == (422, "VALIDATION_FAILED")
