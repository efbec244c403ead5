"""Prices nobody set: a tier offers a billing period only with that period's price, and
public pricing and the registration page show only periods that have one."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest
from licensing_core.store.models import TierRecord

from tests.integration.conftest import tier_body
from tests.integration.test_tenancy import snapshot
from tests.support import Response, invoke

Admin = Callable[..., Response]
BROWSER_ACCEPT = "text/html,application/xhtml+xml"


def new_tier(code: str, **fields: Any) -> dict[str, Any]:
    """A self-service tier body without prices: each test says which it sets."""
    body = tier_body(code, selfService=True, **fields)
    for price in ("monthlyPrice", "annualPrice"):
        if price not in fields:
            del body[price]
    return body


def pricing_of(code: str) -> dict[str, Any]:
    answer = invoke("GET", "/products/Rdn.Identity/pricing")
    assert answer.status == 200, answer.text
    return next(tier for tier in answer.json["tiers"] if tier["code"] == code)


def page_text(tier: str) -> str:
    """What the registration page says the plan costs (lines joined by ``<br>``)."""
    answer = invoke(
        "GET",
        "/register",
        query={"product": "Rdn.Identity", "tier": tier},
        headers={"accept": BROWSER_ACCEPT},
    )
    assert answer.status == 200, answer.text
    start = answer.text.index('<p class="price">') + len('<p class="price">')
    return html.unescape(answer.text[start : answer.text.index("</p>", start)])


@pytest.mark.parametrize(
    ("fields", "period", "field"),
    [
        ({"monthlyPrice": 2900}, "annual", "annualPrice"),
        ({"annualPrice": 29000}, "monthly", "monthlyPrice"),
        ({}, "monthly", "monthlyPrice"),
        ({"monthlyPrice": None, "annualPrice": 0}, "monthly", "monthlyPrice"),
    ],
)
def test_a_period_without_its_price_is_422_and_writes_nothing(
    admin: Admin, product: str, fields: dict[str, Any], period: str, field: str
) -> None:
    before = snapshot()
    body = new_tier("team", billingPeriods=["monthly", "annual"], **fields)
    answer = admin("POST", f"/products/{product}/tiers", body)
    assert (answer.status, answer.json["code"]) == (422, "PRICE_MISSING"), answer.text
    assert (answer.json["period"], answer.json["field"]) == (period, field)
    assert field in answer.json["detail"] and answer.json["type"].endswith(
        "/problems/price-missing"
    )
    assert snapshot() == before


def test_a_tier_sold_monthly_only_shows_no_annual_price(admin: Admin, product: str) -> None:
    """The issue's tier: a monthly price and no annual one (the CLI used to fill a 0)."""
    made = admin("POST", f"/products/{product}/tiers", new_tier("team", monthlyPrice=2900,
                                                               billingPeriods=["monthly"]))  # fmt: skip
    assert made.status == 201, made.text
    assert (made.json["monthlyPrice"], made.json["annualPrice"]) == (2900, None)
    assert TierRecord.get(product, made.json["tierId"]).annual_price is None
    shown = pricing_of("team")
    assert (shown["billingPeriods"], shown["monthlyPrice"], shown["annualPrice"]) == (
        ["monthly"], 2900, None
    )  # fmt: skip
    text = page_text("team")
    assert "€29.00 per month" in text
    assert "year" not in text and "0.00" not in text


def test_a_price_of_a_period_not_offered_is_kept_but_shown_nowhere(
    admin: Admin, product: str
) -> None:
    made = admin(
        "POST",
        f"/products/{product}/tiers",
        new_tier("team", monthlyPrice=2900, annualPrice=29000, billingPeriods=["monthly"]),
    )
    assert made.status == 201, made.text
    assert made.json["annualPrice"] == 29000  # the administrator's view: set ahead of time
    shown = pricing_of("team")
    assert (shown["billingPeriods"], shown["annualPrice"]) == (["monthly"], None)
    assert "year" not in page_text("team")
    opened = admin(
        "PATCH",
        f"/products/{product}/tiers/{made.json['tierId']}",
        {"billingPeriods": ["annual", "monthly"]},
    )
    assert opened.status == 200, opened.text
    shown = pricing_of("team")
    assert (shown["billingPeriods"], shown["annualPrice"]) == (["monthly", "annual"], 29000)
    assert page_text("team").split("<br>") == ["€29.00 per month", "€290.00 per year"]


def test_changes_keep_every_offered_period_priced(admin: Admin, product: str) -> None:
    made = admin("POST", f"/products/{product}/tiers", new_tier("team", monthlyPrice=2900,
                                                               billingPeriods=["monthly"]))  # fmt: skip
    path = f"/products/{product}/tiers/{made.json['tierId']}"
    before = snapshot()
    for change, period in (
        ({"billingPeriods": ["monthly", "annual"]}, "annual"),
        ({"monthlyPrice": None}, "monthly"),
        ({"billingPeriods": ["annual"], "monthlyPrice": None}, "annual"),
    ):
        answer = admin("PATCH", path, change)
        assert (answer.status, answer.json["code"]) == (422, "PRICE_MISSING"), (change, answer.text)
        assert answer.json["period"] == period
    assert snapshot() == before
    moved = admin("PATCH", path, {"billingPeriods": ["annual"], "annualPrice": 29000,
                                  "monthlyPrice": None})  # fmt: skip
    assert moved.status == 200, moved.text
    assert (moved.json["monthlyPrice"], moved.json["annualPrice"]) == (None, 29000)
    assert pricing_of("team")["billingPeriods"] == ["annual"]
    assert page_text("team") == "€290.00 per year"
    refused = admin("PATCH", path, {"currency": None})
    assert (refused.status, refused.json["code"]) == (422, "VALIDATION_FAILED")


def test_a_free_tier_states_its_zero_prices(admin: Admin, product: str) -> None:
    free = admin("POST", f"/products/{product}/tiers", new_tier("starter", monthlyPrice=0,
                                                                billingPeriods=["monthly"]))  # fmt: skip
    assert free.status == 201, free.text
    shown = pricing_of("starter")
    assert (shown["monthlyPrice"], shown["annualPrice"], shown["billingPeriods"]) == (
        0, None, ["monthly"]
    )  # fmt: skip
    assert page_text("starter") == "Free"
    # zero for one period, a price for the other: not free, both shown
    mixed = admin(
        "POST",
        f"/products/{product}/tiers",
        new_tier("mixed", monthlyPrice=0, annualPrice=1000, billingPeriods=["monthly", "annual"]),
    )
    assert mixed.status == 201, mixed.text
    assert page_text("mixed").split("<br>") == ["€0.00 per month", "€10.00 per year"]


def test_tiers_with_both_prices_keep_working(tiers: dict[str, str]) -> None:
    """The conftest tiers give both prices, as every tier stored before did."""
    shown = pricing_of("pro")
    assert (shown["monthlyPrice"], shown["annualPrice"]) == (2900, 29000)
    assert shown["billingPeriods"] == ["monthly", "annual"]
    free = pricing_of("free")
    assert (free["monthlyPrice"], free["annualPrice"]) == (0, 0)
    codes = [tier["code"] for tier in invoke("GET", "/products/Rdn.Identity/pricing").json["tiers"]]
    assert codes == ["free", "pro", "enterprise"]  # cheapest first


def test_tiers_are_listed_cheapest_first_by_their_price_per_month(
    admin: Admin, product: str, tiers: dict[str, str]
) -> None:
    """An annual-only tier is placed by its price per month, never as if it were free."""
    made = admin("POST", f"/products/{product}/tiers", new_tier("yearly", annualPrice=60000,
                                                               billingPeriods=["annual"]))  # fmt: skip
    assert made.status == 201, made.text
    listed = [tier["code"] for tier in admin("GET", f"/products/{product}/tiers").json["items"]]
    assert listed == ["free", "pro", "yearly", "enterprise"]  # 29.00 < 50.00 < 99.00 a month
