"""Search keys and plans (``domain/search``): pure rules, no storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from licensing_core.domain import search
from licensing_core.domain.errors import SearchNotServed

NOW = datetime(2026, 12, 5, 12, 0, 0, tzinfo=UTC)


def test_sort_values_order_as_expiries_do_and_perpetual_sorts_last() -> None:
    values = [
        search.expiry_sort(NOW + timedelta(seconds=s), False, f"lic_{9 - s}") for s in range(3)
    ]
    assert values == sorted(values)
    assert search.expiry_sort(datetime(9998, 1, 1, tzinfo=UTC), False, "lic_a") < (
        search.expiry_sort(NOW, True, "lic_a")
    )
    assert search.moment(datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


@pytest.mark.parametrize(
    ("status", "superseded_by", "expires", "standing"),
    [
        ("active", None, NOW, "active"),  # valid through its last second
        ("active", None, NOW - timedelta(seconds=1), "expired"),
        ("suspended", None, NOW - timedelta(days=1), "suspended"),
        ("revoked", None, NOW, "revoked"),
        ("revoked", "lic_new", NOW, "superseded"),
    ],
)
def test_standing(status: str, superseded_by: str | None, expires: datetime, standing: str) -> None:
    assert search.standing(status, superseded_by, expires, NOW) == standing


def test_keys_put_a_license_in_its_product_and_tenant_partitions_of_one_shard() -> None:
    keys = search.license_keys(
        license_id="lic_1",
        product_id="prd_1",
        tenant_id="default",
        status="revoked",
        superseded_by="lic_2",
        expires_at=NOW,
        perpetual=False,
    )
    shard = search.shard("lic_1")
    assert keys == {
        "search_product": f"prd_1#superseded#{shard}",
        "search_tenant": f"default#superseded#{shard}",
        "search_expiry": "2026-12-05T12:00:00Z#lic_1",
    }
    spread = {search.shard(f"lic_{n}") for n in range(200)}
    assert spread == set(range(search.SHARDS))
    assert len(search.partitions("prd_1", search.STATES)) == search.SHARDS * 4


def test_bounds_select_the_expiries_asked_for() -> None:
    """Lower bounds include, upper bounds exclude, to the second (rounded up)."""

    def selected(
        criteria: search.LicenseCriteria, expiry: datetime, perpetual: bool = False
    ) -> bool:
        lower, upper = criteria.bounds()
        value = search.expiry_sort(expiry, perpetual, "lic_x")
        return (lower is None or value >= lower) and (upper is None or value < upper)

    window = search.LicenseCriteria(
        now=NOW, expires_after=NOW, expires_before=NOW + timedelta(days=1, microseconds=1)
    )
    assert selected(window, NOW) and not selected(window, NOW - timedelta(seconds=1))
    assert selected(window, NOW + timedelta(days=1))  # before T rounded up to its second
    assert not selected(window, NOW + timedelta(days=1, seconds=1))
    assert not selected(window, NOW, perpetual=True)
    after = search.LicenseCriteria(now=NOW, expires_after=NOW)
    assert selected(after, NOW, perpetual=True)
    active = search.LicenseCriteria(now=NOW, standing="active")
    expired = search.LicenseCriteria(now=NOW, standing="expired")
    for expiry in (NOW, NOW - timedelta(seconds=1), NOW + timedelta(days=3)):
        assert selected(active, expiry) != selected(expired, expiry)
        assert selected(active, expiry) == (
            search.standing("active", None, expiry, NOW) == "active"
        )
    assert active.states() == expired.states() == ("active",)
    assert search.LicenseCriteria(now=NOW).states() == search.STATES


def test_the_plan_starts_from_an_identity_then_a_product_or_tenant_or_refuses() -> None:
    plan = search.license_index
    assert (
        plan(search.LicenseCriteria(now=NOW, customer_ids=(), product_id="p"), tenant_admin=False)
        == "customer"
    )
    assert (
        plan(search.LicenseCriteria(now=NOW, product_id="p", tenant_id="t"), tenant_admin=True)
        == "tenant"
    )
    assert (
        plan(search.LicenseCriteria(now=NOW, product_id="p", tenant_id="t"), tenant_admin=False)
        == "product"
    )
    assert plan(search.LicenseCriteria(now=NOW, tenant_id="t"), tenant_admin=False) == "tenant"
    with pytest.raises(SearchNotServed) as refused:
        plan(
            search.LicenseCriteria(now=NOW, tier_id="tier_1", standing="active"), tenant_admin=False
        )
    assert refused.value.extensions["combinations"] == list(search.LICENSE_COMBINATIONS)
    assert search.customer_index(email="a@b.c", tenant_id=None) == "email"
    assert search.customer_index(email=None, tenant_id="t") == "tenant"
    with pytest.raises(SearchNotServed):
        search.customer_index(email=None, tenant_id=None)


def test_names_fold_to_one_key_in_any_case_width_and_spacing() -> None:
    assert search.name_key("Ada  LOVELACE") == search.name_key("ada lovelace") == "ada lovelace"
    assert search.name_key("ẞtraße") == "sstrasse"
    assert search.name_key("\uff21\uff24\uff21") == "ada"  # full-width ADA
    assert len(search.name_key("x" * 500)) == search.NAME_KEY_LENGTH
    assert search.fold("  ") == "" and search.name_key("\u200b") == "\u200b"  # never empty
