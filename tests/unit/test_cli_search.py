"""``licensing licenses list`` and ``licensing customers list``: every filter reaches the
search as its query parameter, on every page; dates are their first second; an email
names the identity in every tenant. The API is a fake behind httpx's mock transport."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from licensing_cli.errors import Exit
from licensing_cli.main import main

ENV = {"LICENSING_URL": "https://licensing.test", "LICENSING_TOKEN": "t0ken", "COLUMNS": "250"}


@dataclass
class FakeSearch:
    """Answers each search with ``pages`` pages of one item; keeps every query."""

    pages: int = 1
    queries: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        self.queries.append((request.url.path, query))
        if not set(query) - {"limit", "cursor"}:  # a platform administrator's, unscoped
            problem: dict[str, Any] = {
                "status": 422,
                "code": "SEARCH_NOT_SERVED",
                "detail": "a license search needs somewhere to start",
            }
            headers = {"content-type": "application/problem+json"}
            return httpx.Response(422, json=problem, headers=headers)
        page = int(query.get("cursor", "0"))
        following = str(page + 1) if page + 1 < self.pages else None
        key = "licenseId" if request.url.path == "/license-keys" else "customerId"
        return httpx.Response(200, json={"items": [{key: f"x{page}"}], "nextCursor": following})


def cli(api: FakeSearch, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        list(args), env=ENV, stdout=out, stderr=err, transport=httpx.MockTransport(api.handle)
    )
    return code, out.getvalue(), err.getvalue()


def test_every_license_filter_is_sent_as_given_and_dates_are_their_first_second() -> None:
    api = FakeSearch()
    code, out, _ = cli(
        api,
        "--json",
        "licenses",
        "list",
        "--product", "App",
        "--tier", "pro",
        "--status", "active",
        "--tenant", "tnt_1",
        "--expires-after", "2026-12-01",
        "--expires-before", "2027-01-01T12:00:00Z",
        "--limit", "20",
    )  # fmt: skip
    assert code == 0
    assert api.queries == [
        (
            "/license-keys",
            {
                "productId": "App",
                "tierId": "pro",
                "status": "active",
                "tenantId": "tnt_1",
                "expiresAfter": "2026-12-01T00:00:00Z",
                "expiresBefore": "2027-01-01T12:00:00Z",
                "limit": "20",
            },
        )
    ]
    assert json.loads(out)["items"] == [{"licenseId": "x0"}]


@pytest.mark.parametrize(
    ("customer", "parameter"),
    [("ada@example.com", "email"), ("cus_1", "customerId")],
)
def test_a_customer_is_an_id_or_an_email(customer: str, parameter: str) -> None:
    api = FakeSearch()
    assert cli(api, "--json", "licenses", "list", "--customer", customer)[0] == 0
    assert api.queries[0][1] == {parameter: customer, "limit": "50"}


def test_all_follows_every_page_with_the_same_filters() -> None:
    api = FakeSearch(pages=3)
    code, out, _ = cli(api, "--json", "licenses", "list", "--product", "App", "--all")
    assert code == 0
    assert [item["licenseId"] for item in json.loads(out)["items"]] == ["x0", "x1", "x2"]
    assert [q for _, q in api.queries] == [
        {"productId": "App", "limit": "100"},
        {"productId": "App", "limit": "100", "cursor": "1"},
        {"productId": "App", "limit": "100", "cursor": "2"},
    ]


def test_a_page_says_how_to_go_on() -> None:
    api = FakeSearch(pages=2)
    code, out, err = cli(api, "licenses", "list", "--tenant", "default")
    assert code == 0 and "x0" in out
    assert "--cursor 1" in out + err


def test_every_identity_filter_is_sent() -> None:
    api = FakeSearch()
    args = ("--tenant", "default", "--prefix", "acme", "--status", "active", "--kind", "human")
    assert cli(api, "--json", "customers", "list", *args)[0] == 0
    assert api.queries == [
        (
            "/customers",
            {
                "tenantId": "default",
                "q": "acme",
                "status": "active",
                "kind": "human",
                "limit": "50",
            },
        )
    ]
    cli(api, "--json", "customers", "list", "--email", "Ada@Example.com")
    assert api.queries[-1][1] == {"email": "Ada@Example.com", "limit": "50"}


def test_a_search_the_api_does_not_serve_is_explained() -> None:
    """The API's 422 reaches the person with its detail, and the refusal's exit code."""
    code, _, err = cli(FakeSearch(), "licenses", "list")
    assert code == Exit.REFUSED and "needs somewhere to start" in " ".join(err.split())
