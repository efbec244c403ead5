"""``licensing tiers``: the CLI sends the prices it is given and never invents one; a new
tier offers the periods whose price is given; tables and trees show offered periods only.
The API is a fake behind httpx's mock transport that keeps what it is sent (no sockets)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from licensing_cli.errors import Exit
from licensing_cli.main import main

ENV = {"LICENSING_URL": "https://licensing.test", "LICENSING_TOKEN": "t0ken", "COLUMNS": "250"}
TEAM = {
    "tierId": "tier_team",
    "productId": "prd_app",
    "code": "team",
    "name": "Team",
    "monthlyPrice": 2900,
    "annualPrice": 29000,
    "currency": "EUR",
    "billingPeriods": ["monthly"],
    "maxUsers": 5,
    "features": [],
    "resolved": {"features": [], "displayFeatures": [], "chain": ["tier_team"]},
}


@dataclass
class FakeApi:
    """Product App (prd_app) with the tier team: 29.00 EUR a month, an annual price set
    but not offered."""

    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def writes(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [request for request in self.sent if request[0] != "GET"]

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.path)
        body = json.loads(request.content) if request.content else {}
        self.sent.append((request.method, path, body))
        match request.method, path.strip("/").split("/"):
            case "GET", ["products", "App" | "prd_app"]:
                return httpx.Response(200, json={"productId": "prd_app", "code": "App"})
            case "GET", ["products", "prd_app", "tiers"]:
                return httpx.Response(200, json={"items": [TEAM]})
            case "GET", ["products", "prd_app", "tiers", "tier_team"]:
                return httpx.Response(200, json=TEAM)
            case "POST" | "PATCH", ["products", "prd_app", "tiers", *_]:
                return httpx.Response(201, json={**TEAM, **body})
        return httpx.Response(404, json={"code": "ROUTE_NOT_FOUND", "status": 404})


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def cli(api: FakeApi, *args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        list(args), env=ENV, stdout=out, stderr=err, transport=httpx.MockTransport(api.handle)
    )
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


PRICES = ("monthlyPrice", "annualPrice", "billingPeriods")


@pytest.mark.parametrize(
    ("options", "sent"),
    [
        (["--monthly-price", "29"], {"monthlyPrice": 2900, "billingPeriods": ["monthly"]}),
        (["--annual-price", "290.50"], {"annualPrice": 29050, "billingPeriods": ["annual"]}),
        (
            ["--monthly-price", "29", "--annual-price", "290"],
            {"monthlyPrice": 2900, "annualPrice": 29000, "billingPeriods": ["monthly", "annual"]},
        ),
        (["--monthly-price", "0"], {"monthlyPrice": 0, "billingPeriods": ["monthly"]}),
        # periods as given, even without their price: the server says PRICE_MISSING
        (
            ["--monthly-price", "29", "--billing-periods", "monthly,annual"],
            {"monthlyPrice": 2900, "billingPeriods": ["monthly", "annual"]},
        ),
        (
            ["--data", '{"annualPrice": 100, "billingPeriods": ["annual"]}'],
            {"annualPrice": 100, "billingPeriods": ["annual"]},
        ),
    ],
)
def test_create_sends_the_prices_given_and_no_other(
    api: FakeApi, options: list[str], sent: dict[str, Any]
) -> None:
    run = cli(api, "tiers", "create", "App", "team", "Team", *options)
    assert run.code == Exit.OK, run
    [(method, path, body)] = api.writes()
    assert (method, path) == ("POST", "/products/prd_app/tiers")
    assert {key: body[key] for key in PRICES if key in body} == sent


def test_create_without_a_price_is_a_usage_error_and_writes_nothing(api: FakeApi) -> None:
    run = cli(api, "tiers", "create", "App", "team", "Team", "--max-users", "2")
    assert run.code == Exit.USAGE, run
    assert "--monthly-price and/or --annual-price (0 for a free tier)" in " ".join(run.err.split())
    assert api.writes() == []


def test_update_sends_only_what_changes(api: FakeApi) -> None:
    assert cli(api, "tiers", "update", "App", "team", "--name", "Teams").code == Exit.OK
    assert cli(api, "tiers", "update", "App", "team", "--annual-price", "300").code == Exit.OK
    bodies = [body for _, _, body in api.writes()]
    assert bodies == [{"name": "Teams"}, {"annualPrice": 30000}]


def test_tables_and_trees_show_the_offered_periods_only(api: FakeApi) -> None:
    listed = cli(api, "tiers", "list", "App")
    assert listed.code == Exit.OK, listed
    assert "29.00 EUR per month" in listed.out
    tree = cli(api, "tiers", "show", "App", "team")
    assert "5 seat(s), 29.00 EUR per month" in tree.out
    for run in (listed, tree):
        assert "per year" not in run.out and "290.00" not in run.out
