"""The operator's identity search (``GET /customers``) through the handlers, on moto:
by email in any of its forms (every tenant, or one), a tenant's identities by the prefix
of their email or name in any case, by status and kind; every page size; pages that stay
consistent while identities are written; at most two Queries a page and never a Scan;
tenant administrators within their tenant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from licensing_core.domain import search as rules
from licensing_core.domain.emails import email_key

from tests.integration.conftest import CognitoPool
from tests.integration.searching import pages_written_between, search, tenant_admin
from tests.support import Response, full_width, invoke

Admin = Callable[..., Response]


@dataclass
class People:
    tenants: dict[str, str]
    views: dict[str, dict[str, Any]]  #: by name

    def ids(self, *names: str) -> list[str]:
        return [self.views[name]["customerId"] for name in names]


#: name, email, tenant, kind
IDENTITIES = [
    ("Ada Lovelace", "ada@example.com", "default", "human"),
    ("Alan Turing", "alan@example.com", "default", "human"),
    ("Grace Hopper", "grace@example.com", "default", "service"),
    ("Adalbert Zed", "zed@example.com", "default", "human"),
    ("ẞtraße Weg", "weg@example.com", "default", "human"),
    ("Ada", "Ada@Example.com", "a", "human"),
    ("Bob", "bob@example.com", "a", "service"),
]


@pytest.fixture
def people(admin: Admin) -> People:
    tenants = {"default": "default", "a": admin("POST", "/tenants", {"name": "A"}).json["tenantId"]}
    views = {}
    for name, email, tenant, kind in IDENTITIES:
        created = admin(
            "POST",
            "/customers",
            {"email": email, "name": name, "kind": kind, "tenantId": tenants[tenant]},
        )
        assert created.status == 201, created.text
        views[name] = created.json
    alan = views["Alan Turing"]["customerId"]
    answer = admin("POST", f"/customers/{alan}/deactivate", {"reason": "left"})
    assert answer.status == 200, answer.text
    views = {name: admin("GET", f"/customers/{v['customerId']}").json for name, v in views.items()}
    return People(tenants, views)


def expected(people: People, query: dict[str, str]) -> list[str]:
    """The identity ids a search must return, in its order, by the documented rules."""
    prefix = rules.fold(query["q"]) if "q" in query else None

    def keep(view: dict[str, Any]) -> bool:
        return (
            ("email" not in query or email_key(view["email"]) == email_key(query["email"]))
            and ("tenantId" not in query or view["tenantId"] == query["tenantId"])
            and ("status" not in query or view["status"] == query["status"])
            and ("kind" not in query or view["kind"] == query["kind"])
        )

    found = [v for v in people.views.values() if keep(v)]
    if "email" in query:
        return [v["customerId"] for v in sorted(found, key=lambda v: v["tenantId"])]
    by_email = sorted(found, key=lambda v: email_key(v["email"]))
    if prefix is None:
        return [v["customerId"] for v in by_email]
    first = [v for v in by_email if email_key(v["email"]).startswith(prefix)]
    then = sorted(
        (v for v in found if v not in first and rules.name_key(v["name"]).startswith(prefix)),
        key=lambda v: rules.name_key(v["name"]),
    )
    return [v["customerId"] for v in first + then]


SEARCHES: list[dict[str, str]] = [
    {"email": "ADA@example.com"},  # two tenants
    {"email": full_width("ada@example.com")},
    {"email": "ada@example.com", "tenantId": "a"},
    {"email": "ada@example.com", "q": "ada"},
    {"email": "nobody@example.com"},
    {"tenantId": "default"},
    {"tenantId": "default", "q": "a"},  # emails ada@, alan@; then the name Adalbert (zed@)
    {"tenantId": "default", "q": "ADA"},
    {"tenantId": "default", "q": "ada l"},
    {"tenantId": "default", "q": "SSTRA"},  # ẞtraße folds to sstrasse
    {"tenantId": "default", "q": "g"},  # grace@ by email and Grace by name: once
    {"tenantId": "default", "status": "deactivated"},
    {"tenantId": "default", "kind": "service"},
    {"tenantId": "default", "q": "a", "status": "active", "kind": "human"},
    {"tenantId": "a"},
    {"tenantId": "unknown"},
]


def test_every_filter_and_combination_matches_the_oracle_at_every_page_size(
    people: People, admin_token: str
) -> None:
    by_id = {view["customerId"]: view for view in people.views.values()}
    for filters in SEARCHES:
        query = {k: people.tenants.get(v, v) if k == "tenantId" else v for k, v in filters.items()}
        want = expected(people, query)
        assert bool(want) != ("nobody" in str(query) or "unknown" in str(query)), query
        for limit in (1, 2, 100):
            items, pages = search(admin_token, query, limit=limit, path="/customers")
            assert [item["customerId"] for item in items] == want, (limit, query)
            for item in items:  # the same view as GET /customers/{customerId}
                assert item == by_id[item["customerId"]]
            for page in pages:
                assert page.count("Scan") == 0 and page.count("Query") <= 2, page.operations
                assert len(page.operations) == page.count("Query"), page.operations


@pytest.mark.parametrize(
    ("query", "code", "status"),
    [
        ({}, "SEARCH_NOT_SERVED", 422),
        ({"q": "ada"}, "SEARCH_NOT_SERVED", 422),
        ({"status": "active"}, "SEARCH_NOT_SERVED", 422),
        ({"tenantId": "default", "kind": "robot"}, "VALIDATION_FAILED", 422),
        ({"tenantId": "default", "q": "x" * 101}, "VALIDATION_FAILED", 422),
        ({"tenantId": "default", "email": "@"}, "VALIDATION_FAILED", 422),
        ({"tenantId": "default", "cursor": "e30"}, "INVALID_CURSOR", 400),
    ],
)
def test_bad_searches_are_refused(
    admin: Admin, query: dict[str, str], code: str, status: int
) -> None:
    answer = admin("GET", "/customers", query=query)
    assert (answer.status, answer.json["code"]) == (status, code), answer.text
    if code == "SEARCH_NOT_SERVED":
        assert any("tenantId" in c for c in answer.json["combinations"])


def test_pages_stay_consistent_while_identities_are_written_between_them(
    people: People, admin: Admin
) -> None:
    """Between pages an identity is created before the cursor, one after it, and one
    already listed is deactivated: none comes twice, every earlier one comes."""
    before = {v["customerId"] for v in people.views.values() if v["tenantId"] == "default"}

    def write(page: list[str], seen: list[str]) -> None:
        for email in (f"aaa{len(seen)}@example.com", f"zzz{len(seen)}@example.com"):
            assert admin("POST", "/customers", {"email": email, "name": email}).status == 201
        if page:
            admin("POST", f"/customers/{page[0]}/deactivate", {"reason": "between pages"})

    seen = pages_written_between(
        admin, "/customers", {"tenantId": "default"}, write, key="customerId", size=1
    )
    assert len(seen) == len(set(seen))
    assert before <= set(seen)


def test_a_tenant_administrator_searches_within_their_tenant_only(
    people: People, aws: CognitoPool
) -> None:
    token = tenant_admin(aws, people.tenants["a"])
    items, _ = search(token, {}, limit=1, path="/customers")
    assert [i["customerId"] for i in items] == people.ids("Ada", "Bob")
    items, _ = search(token, {"email": "ada@example.com"}, limit=1, path="/customers")
    assert [i["customerId"] for i in items] == people.ids("Ada")
    items, _ = search(token, {"q": "b"}, limit=1, path="/customers")
    assert [i["customerId"] for i in items] == people.ids("Bob")
    other = invoke("GET", "/customers", token=token, query={"tenantId": "default"})
    missing = invoke("GET", "/customers", token=token, query={"tenantId": "defaultx"})
    assert (other.status, other.json.get("items"), other.json.get("code")) == (
        missing.status,
        missing.json.get("items"),
        missing.json.get("code"),
    )
