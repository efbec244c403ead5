"""The rollup counts every stream record exactly once (hypothesis).

Random audit records (every action the statistics count, and some they do not, over two
products, two tenants, two tiers each and six days) and random usage counter increases
are written to moto's tables; their streams are then delivered to the rollup consumers
in random batches with duplicates and reordering within the shard, while transactions
fail before or after they commit, and finally once more in order. Every point of the
series, and the standing counts, of the global scope and two drawn ones (of a product,
a tenant, or a product in a tenant) must equal what is computed from the audit and usage
tables directly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from licensing_core import schemas
from licensing_core.domain.errors import Unavailable
from licensing_core.domain.ids import set_clock
from licensing_core.services import rollup, stats
from licensing_core.store import stats as stats_store
from licensing_core.store.audit import entry as audit_entry
from licensing_core.store.models import AuditRecord, StatsRecord, UsageRecord

from local.streams import Record, StreamCursor, trim
from tests.integration.conftest import tier_body
from tests.integration.rollup import ACCOUNT, REGION
from tests.support import Response, load_handler

Admin = Callable[..., Response]
DAYS = 6
STATUSES = ("active", "suspended", "revoked")
#: The oracle's own reading of the audit trail: which action raises which count.
COUNTED = {
    "activation.created": "activations",
    "activation.deactivated": "deactivations",
    "activation.reclaimed": "reclaimed",
    "license.issued": "issued",
    "license.revoked": "revoked",
    "license.suspended": "suspended",
}
ACTIONS = (*COUNTED, "license.reinstated", "license.renewed", "identity.created")
METERS = ("api_calls", "exports")
ADD = stats_store.add


@dataclass(frozen=True)
class World:
    products: tuple[str, str]
    tenants: tuple[str, str]
    #: product -> its two tiers (ids) and their seats.
    tiers: dict[str, dict[str, int]]


@pytest.fixture
def world(admin: Admin) -> Iterator[World]:
    products = tuple(
        admin("POST", "/products", {"code": f"Stats.{n}", "name": n}).json["productId"]
        for n in "AB"
    )
    tenants = tuple(admin("POST", "/tenants", {"name": n}).json["tenantId"] for n in "XY")
    tiers = {
        product: {
            admin("POST", f"/products/{product}/tiers", tier_body(code, maxUsers=seats)).json[
                "tierId"
            ]: seats
            for code, seats in (("small", 3), ("large", 7))
        }
        for product in products
    }
    yield World(products, tenants, tiers)  # type: ignore[arg-type]
    set_clock(None)


@st.composite
def audit_records(draw: st.DrawFn, world: World, now: datetime) -> AuditRecord:
    action = draw(st.sampled_from(ACTIONS))
    product = draw(st.sampled_from(world.products))
    details: dict[str, Any] = {
        "productId": product,
        "tierId": draw(st.sampled_from(sorted(world.tiers[product]))),
        "tenantId": draw(st.sampled_from(world.tenants)),
    }
    if action in ("license.revoked", "license.suspended", "license.reinstated"):
        details["from"] = draw(st.sampled_from(STATUSES))
        details["to"] = {"license.revoked": "revoked", "license.suspended": "suspended"}.get(
            action, "active"
        )
    if action == "identity.created":
        details = {"tenantId": details["tenantId"]}
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    moment = (
        day
        - timedelta(days=draw(st.integers(0, DAYS - 1)))
        + timedelta(seconds=draw(st.integers(0, 86399)))
    )
    subject = f"lic_{draw(st.integers(0, 5))}"
    return audit_entry(subject, action, "prop", details=details, at=moment)


@dataclass(frozen=True)
class Increase:
    license: int
    meter: str
    quantity: int


def increases() -> st.SearchStrategy[Increase]:
    return st.builds(Increase, st.integers(0, 3), st.sampled_from(METERS), st.integers(1, 50))


def write_usage(world: World, increase: Increase) -> None:
    """A counter's increase as ``POST /usage`` makes it (the receipt aside)."""
    product = world.products[increase.license % 2]
    tenant = world.tenants[increase.license // 2]
    counter = UsageRecord(f"lic_{increase.license}#{increase.meter}", "2026-12")
    counter.update(
        actions=[
            UsageRecord.used.add(increase.quantity),
            UsageRecord.limit.set(10**9),
            UsageRecord.usage_key.set(f"2026-12#lic_{increase.license}#{increase.meter}"),
            UsageRecord.customer_id.set(f"cus_{increase.license}"),
            UsageRecord.tenant_id.set(tenant),
            UsageRecord.license_id.set(f"lic_{increase.license}"),
            UsageRecord.product_id.set(product),
            UsageRecord.meter.set(increase.meter),
            UsageRecord.period_ends_at.set(datetime(2027, 1, 1, tzinfo=UTC)),
        ]
    )


def stream(model: type[Any]) -> list[Record]:
    """Every record of ``model``'s table's stream (written by this example only)."""
    cursor = StreamCursor(model.Meta.table_name, ACCOUNT, REGION)
    return cursor.batch(10_000)


def forget(*models: type[Any]) -> None:
    """Empty the tables and streams one example wrote."""
    for model in models:
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)
        if getattr(model.Meta, "stream_view_type", None):
            trim([StreamCursor.at_end(model.Meta.table_name, ACCOUNT, REGION)])


class Faults:
    """Makes the rollup's transactions fail before or after they commit, as drawn."""

    def __init__(self, plan: list[str]) -> None:
        self.plan = plan

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        fault = self.plan.pop() if self.plan else "none"
        if fault == "before":
            raise Unavailable("throttled")
        ADD(*args, **kwargs)
        if fault == "after":  # committed, but the answer is lost: the records come again
            raise Unavailable("timed out")


def deliver(function: str, records: list[Record], schedule: list[list[int]]) -> None:
    """Each batch of ``schedule`` (positions in ``records``)."""
    handler = load_handler(function).handler
    for batch in schedule:
        handler({"Records": [records[i] for i in batch]}, None)


def deliver_in_order(function: str, records: list[Record]) -> None:
    """Every record once more, in order, without faults: each is now counted."""
    answer = load_handler(function).handler({"Records": records}, None)
    assert answer == {"batchItemFailures": []}


def schedules(size: int) -> st.SearchStrategy[list[list[int]]]:
    """Batches of positions: every record at least once, some again, in any order."""
    if size == 0:
        return st.just([])
    positions = st.lists(st.integers(0, size - 1), max_size=2 * size).flatmap(
        lambda extra: st.permutations([*range(size), *extra])
    )
    return positions.flatmap(
        lambda order: st.lists(st.integers(1, 100), min_size=len(order), max_size=len(order)).map(
            lambda cuts: _batches(order, cuts)
        )
    )


def _batches(order: list[int], cuts: list[int]) -> list[list[int]]:
    batches, position = [], 0
    for size in cuts:
        if position >= len(order):
            break
        batches.append(order[position : position + size])
        position += size
    return batches


# --- the oracle: counts straight from the tables -------------------------------------


def scopes(world: World) -> list[tuple[str | None, str | None]]:
    return [(p, t) for p in (None, *world.products) for t in (None, *world.tenants)]


def in_scope(scope: tuple[str | None, str | None], product: Any, tenant: Any) -> bool:
    return scope[0] in (None, product) and scope[1] in (None, tenant)


def expected_points(scope: tuple[str | None, str | None], today: date) -> list[dict[str, Any]]:
    records = [
        r
        for r in AuditRecord.scan()
        if r.action in COUNTED
        and in_scope(scope, r.details.get("productId"), r.details.get("tenantId"))
    ]
    usage: Counter[str] = Counter()
    for counter in UsageRecord.scan():
        if in_scope(scope, counter.product_id, counter.tenant_id):
            usage[counter.meter] += int(counter.used)
    points = []
    for back in range(DAYS - 1, -1, -1):
        day = today - timedelta(days=back)
        that_day = Counter(COUNTED[r.action] for r in records if r.at.date() == day)
        up_to = Counter(r.action for r in records if r.at.date() <= day)
        points.append(
            {
                "date": day.isoformat(),
                **{name: that_day[name] for name in COUNTED.values()},
                "activeMachines": up_to["activation.created"] - up_to["activation.deactivated"],
                "usage": dict(sorted(usage.items())) if day == today else {},
            }
        )
    return points


def expected_standing(scope: tuple[str | None, str | None], world: World) -> dict[str, Any]:
    by_tier: dict[str, Counter[str]] = {}
    machines = 0
    for r in AuditRecord.scan():
        d = r.details
        if not in_scope(scope, d.get("productId"), d.get("tenantId")):
            continue
        machines += {"activation.created": 1, "activation.deactivated": -1}.get(r.action, 0)
        if r.action == "license.issued":
            by_tier.setdefault(d["tierId"], Counter())["active"] += 1
        elif r.action.startswith("license.") and "from" in d and d["from"] != d["to"]:
            by_tier.setdefault(d["tierId"], Counter()).update({d["from"]: -1, d["to"]: 1})
    seats = {tier: n for tiers in world.tiers.values() for tier, n in tiers.items()}
    by_tier = {tier: counts for tier, counts in by_tier.items() if any(counts.values())}
    return {
        "licenses": {
            "byStatus": {s: sum(c[s] for c in by_tier.values()) for s in STATUSES},
            "byTier": {t: {s: c[s] for s in STATUSES} for t, c in sorted(by_tier.items())},
        },
        "activeMachines": machines,
        "seats": {
            "used": machines,
            "total": sum(c["active"] * seats[t] for t, c in by_tier.items()),
        },
    }


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_point_equals_the_counts_of_the_tables(world: World, data: st.DataObject) -> None:
    now = datetime.now(UTC)  # usage counts on the day the stream records it: today
    set_clock(lambda: now)
    forget(AuditRecord, UsageRecord, StatsRecord)
    for record in data.draw(st.lists(audit_records(world, now), max_size=40), label="audit"):
        record.save()
    for increase in data.draw(st.lists(increases(), max_size=12), label="usage"):
        write_usage(world, increase)
    assume(datetime.now(UTC).date() == now.date())  # not across midnight
    audit, usage = stream(AuditRecord), stream(UsageRecord)
    faults = data.draw(st.lists(st.sampled_from(["none", "before", "after"])), label="faults")
    rollup.store.add = Faults(faults)  # type: ignore[method-assign]
    try:
        deliver("rollup_stats", audit, data.draw(schedules(len(audit)), label="audit batches"))
        deliver("rollup_usage", usage, data.draw(schedules(len(usage)), label="usage batches"))
    finally:
        rollup.store.add = ADD  # type: ignore[method-assign]
    deliver_in_order("rollup_stats", audit)
    deliver_in_order("rollup_usage", usage)
    today = now.date()
    others = st.lists(st.sampled_from(scopes(world)[1:]), min_size=2, max_size=2, unique=True)
    for scope in [(None, None), *data.draw(others, label="scopes")]:
        query = schemas.StatsQuery(
            product_id=scope[0], tenant_id=scope[1], from_=today - timedelta(days=DAYS - 1)
        )
        series = stats.series(query, None).model_dump(mode="json", by_alias=True)
        assert series["points"] == expected_points(scope, today), scope
        standing = stats.summary(schemas.StatsScope(product_id=scope[0], tenant_id=scope[1]), None)
        summary = standing.model_dump(mode="json", by_alias=True)
        del summary["productId"], summary["tenantId"]
        assert summary == expected_standing(scope, world), scope
