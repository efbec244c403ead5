"""``licensing stats``: what it asks the API, its table, its chart (Unicode blocks where
the terminal's encoding has them, ASCII otherwise) and its JSON. The API is a fake behind
httpx's mock transport (no sockets)."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from licensing_cli.commands.stats import ASCII, BLOCKS, sparkline, squeeze
from licensing_cli.main import main

ENV = {"LICENSING_URL": "https://licensing.test", "LICENSING_TOKEN": "t0ken", "COLUMNS": "120"}
MACHINES = [0, 1, 3, 3, 2]


def series(params: dict[str, str]) -> dict[str, Any]:
    first = date.fromisoformat(params["from"])
    days = [first + timedelta(days=n) for n in range(5)]
    return {
        "productId": params.get("productId"),
        "tenantId": params.get("tenantId"),
        "from": params["from"],
        "to": params["to"],
        "interval": "day",
        "points": [
            {
                "date": day.isoformat(),
                "activations": [0, 1, 2, 0, 0][n],
                "deactivations": [0, 0, 0, 0, 1][n],
                "reclaimed": 0,
                "issued": [1, 0, 0, 0, 0][n],
                "revoked": 0,
                "suspended": 0,
                "activeMachines": MACHINES[n],
                "usage": {"api_calls": 40 * n} if n else {},
            }
            for n, day in enumerate(days)
        ],
    }


SUMMARY = {
    "productId": None,
    "tenantId": None,
    "licenses": {
        "byStatus": {"active": 4, "suspended": 1, "revoked": 2},
        "byTier": {"tier_pro": {"active": 4, "suspended": 1, "revoked": 2}},
    },
    "activeMachines": 2,
    "seats": {"used": 2, "total": 20},
}


class FakeApi:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.requests.append((request.url.path, params))
        if request.url.path == "/stats":
            return httpx.Response(200, json=series(params))
        if request.url.path == "/stats/summary":
            return httpx.Response(200, json=SUMMARY)
        if request.url.path == "/products/App":
            return httpx.Response(404, json={"status": 404, "code": "PRODUCT_NOT_FOUND"})
        if request.url.path == "/products":
            return httpx.Response(200, json={"items": [{"productId": "prd_1", "code": "App"}]})
        raise AssertionError(request.url)


def run(*args: str, encoding: str = "utf-8") -> tuple[int, str, FakeApi]:
    api = FakeApi()
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding=encoding, errors="strict", write_through=True)
    code = main(list(args), env=ENV, stdout=out, stderr=io.StringIO(),
                transport=httpx.MockTransport(api.handle))  # fmt: skip
    return code, raw.getvalue().decode(encoding), api


def test_it_asks_for_the_scope_and_days_given() -> None:
    code, _, api = run("stats", "--product", "App", "--tenant", "tnt_1", "--from", "2026-11-01",
                       "--to", "2026-11-05")  # fmt: skip
    assert code == 0
    asked = {path: params for path, params in api.requests if path.startswith("/stats")}
    assert asked["/stats"] == {
        "productId": "prd_1", "tenantId": "tnt_1", "from": "2026-11-01", "to": "2026-11-05",
    }  # fmt: skip
    assert asked["/stats/summary"] == {"productId": "prd_1", "tenantId": "tnt_1"}


def test_days_count_back_from_today_utc() -> None:
    code, _, api = run("stats", "--days", "7")
    today = datetime.now(UTC).date()
    (params,) = [p for path, p in api.requests if path == "/stats"]
    assert code == 0 and params["to"] in (today.isoformat(), (today + timedelta(1)).isoformat())
    assert date.fromisoformat(params["to"]) - date.fromisoformat(params["from"]) == timedelta(6)


def test_a_table_a_chart_of_unicode_blocks_and_the_standing_counts() -> None:
    code, out, _ = run("stats", "--from", "2026-11-01", "--to", "2026-11-05")
    assert code == 0
    assert "all products, all tenants, 2026-11-01 to 2026-11-05 (UTC)" in out
    assert "2026-11-03" in out and "api_calls" in out
    machines = next(line for line in out.splitlines() if line.startswith("Machines "))
    assert sparkline(MACHINES) in machines and "max 3" in machines
    assert set(sparkline(MACHINES)) <= set(BLOCKS) | {" "}
    assert "Seats granted" in out and "20" in out


def test_an_ascii_terminal_gets_an_ascii_chart() -> None:
    code, out, _ = run("stats", "--from", "2026-11-01", "--to", "2026-11-05", encoding="ascii")
    assert code == 0  # nothing the terminal cannot show
    machines = next(line for line in out.splitlines() if line.startswith("Machines "))
    assert sparkline(MACHINES, ASCII) in machines


def test_no_chart_and_json() -> None:
    _, out, _ = run("stats", "--from", "2026-11-01", "--to", "2026-11-05", "--no-chart")
    assert not any(line.startswith("Machines ") for line in out.splitlines())
    code, out, _ = run("stats", "--from", "2026-11-01", "--to", "2026-11-05", "--json")
    document = json.loads(out)
    assert code == 0 and document["summary"] == SUMMARY
    assert [p["activeMachines"] for p in document["series"]["points"]] == MACHINES


@pytest.mark.parametrize("args", [("--days", "0"), ("--days", "367"), ("--from", "2026-13-01"),
                                  ("--from", "2026-11-01", "--days", "3")])  # fmt: skip
def test_bad_days_are_usage_errors_before_any_request(args: tuple[str, ...]) -> None:
    code, _, api = run("stats", *args)
    assert code == 2 and api.requests == []


def test_sparklines_scale_to_the_highest_value_and_squeeze_to_the_width() -> None:
    assert sparkline([0, 1, 2, 4]) == " ▃▅█"  # 7 steps above the lowest: 1.75, 3.5, 7
    assert sparkline([5, 5]) == "██" and sparkline([]) == ""
    assert squeeze([1, 2, 3, 4, 5], 2, level=False) == [6, 9]
    assert squeeze([1, 2, 3, 4, 5], 2, level=True) == [3, 5]
    assert squeeze([1, 2], 10, level=False) == [1, 2]
