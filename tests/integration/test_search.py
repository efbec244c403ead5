"""The operator's license search (``GET /license-keys``) through the handlers, on moto.

Every filter and combination is checked against an oracle: every license read one by one
(``GET /license-keys/{id}``) and filtered in Python by the documented rules. Pages are
followed to the end at several sizes; the DynamoDB calls of each page are recorded (no
Scan, a bounded number of Queries); pages stay consistent while licenses are written
between them; tenant administrators see their tenant only; the stored index keys follow
every write path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from licensing_core.domain import search as rules
from licensing_core.domain.emails import email_key
from licensing_core.domain.ids import set_clock, utcnow
from licensing_core.store import search as search_store
from licensing_core.store.models import CustomerRecord, LicenseRecord

from tests.integration.conftest import CognitoPool, tier_body
from tests.integration.searching import pages_written_between, search, tenant_admin
from tests.support import Response, invoke

Admin = Callable[..., Response]
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class Catalog:
    """Two products, three tenants, identities (one address in two tenants) and
    licenses of every standing; ``licenses`` holds each as the API shows it."""

    products: dict[str, str]
    tiers: dict[str, str]
    tenants: dict[str, str]
    customers: dict[str, str]
    licenses: dict[str, dict[str, Any]]


def issue(admin: Admin, product: str, tier: str, customer: str, days: float | None) -> str:
    body: dict[str, Any] = {"productId": product, "tierId": tier, "customerId": customer}
    if days is None:
        body["perpetual"] = True
    else:
        body["expiresAt"] = iso(NOW + timedelta(days=days))
    issued = admin("POST", "/license-keys", body)
    assert issued.status == 201, issued.text
    return str(issued.json["licenseId"])


@pytest.fixture
def catalog(admin: Admin, product: str, tiers: dict[str, str]) -> Iterator[Catalog]:
    other = admin("POST", "/products", {"code": "Rdn.Vault", "name": "Vault"}).json["productId"]
    basic = admin("POST", f"/products/{other}/tiers", tier_body("basic", maxUsers=5))
    assert basic.status == 201, basic.text
    tenants = {"default": "default"}
    for name in ("a", "b"):
        tenants[name] = admin("POST", "/tenants", {"name": f"Tenant {name}"}).json["tenantId"]
    customers = {}
    for name, email, tenant in (
        ("ada", "ada@example.com", "default"),
        ("ada_a", "Ada@Example.com", "a"),
        ("bob", "bob@example.com", "a"),
        ("cy", "cy@example.com", "b"),
        ("dee", "dee@example.com", "default"),
    ):
        created = admin(
            "POST", "/customers", {"email": email, "name": name, "tenantId": tenants[tenant]}
        )
        assert created.status == 201, created.text
        customers[name] = created.json["customerId"]
    p, q = product, other
    pro, ent, free, vault = tiers["pro"], tiers["enterprise"], tiers["free"], basic.json["tierId"]
    ids = {
        "ada_pro": issue(admin, p, pro, customers["ada"], 10),
        "ada_vault": issue(admin, q, vault, customers["ada"], 40),
        "bob_pro": issue(admin, p, pro, customers["bob"], 5),
        "bob_ent": issue(admin, p, ent, customers["bob"], None),
        "cy_free": issue(admin, p, free, customers["cy"], 20),
        "cy_vault": issue(admin, q, vault, customers["cy"], 2 / 24),  # expires in 2 hours
        "dee_pro": issue(admin, p, pro, customers["dee"], 15),
        "dee_free": issue(admin, p, free, customers["dee"], 25),
        "dee_old": issue(admin, p, free, customers["dee"], 1 / 24),  # expires in an hour
        "ada_a_pro": issue(admin, p, pro, customers["ada_a"], None),
        "ada_ent": issue(admin, p, ent, customers["ada"], 60),
    }
    suspended = admin("POST", f"/license-keys/{ids['dee_pro']}/suspend", {"reason": "audit"})
    revoked = admin("POST", f"/license-keys/{ids['dee_free']}/revoke", {"reason": "refund"})
    assert suspended.status == revoked.status == 200
    key = admin("POST", f"/license-keys/{ids['ada_ent']}/regenerate", {}).json["keyToken"]
    activated = invoke(  # supersedes ada's other key of the product: ada_pro
        "POST", "/license-activations/activate", body={"keyToken": key, "machineId": "m-1"}
    )
    assert activated.status == 201, activated.text
    later = NOW + timedelta(hours=3)  # cy_vault is past its expiry
    set_clock(lambda: later)
    views = {name: admin("GET", f"/license-keys/{id_}").json for name, id_ in ids.items()}
    yield Catalog(
        products={"p": p, "q": q},
        tiers={"pro": pro, "ent": ent, "free": free, "vault": vault},
        tenants=tenants,
        customers=customers,
        licenses=views,
    )
    set_clock(None)


def test_the_catalog_holds_every_standing(catalog: Catalog) -> None:
    standings = {name: view["standing"] for name, view in catalog.licenses.items()}
    assert standings["ada_pro"] == "superseded" and standings["dee_free"] == "revoked"
    assert standings["dee_pro"] == "suspended" and standings["cy_vault"] == "expired"
    assert standings["bob_ent"] == "active"
    assert catalog.licenses["ada_pro"]["status"] == "revoked"  # the status is unchanged


# The oracle


def expected(catalog: Catalog, filters: dict[str, str]) -> list[str]:
    """The license ids a search must return, in its order, by the documented rules."""
    emails = {name: email_key(f"{name.split('_')[0]}@example.com") for name in catalog.customers}

    def keep(view: dict[str, Any]) -> bool:
        expires = datetime.fromisoformat(view["expiresAt"])
        product = filters.get("productId")
        if product is not None and view["productId"] != catalog.products.get(product, product):
            return False
        tier = filters.get("tierId")
        if tier is not None and view["tierId"] != catalog.tiers.get(tier, tier):
            return False
        if "status" in filters and view["standing"] != filters["status"]:
            return False
        if "customerId" in filters and view["customerId"] != filters["customerId"]:
            return False
        if "tenantId" in filters and view["tenantId"] != filters["tenantId"]:
            return False
        if "email" in filters:
            names = [n for n, c in catalog.customers.items() if c == view["customerId"]]
            if emails[names[0]] != email_key(filters["email"]):
                return False
        before, after = filters.get("expiresBefore"), filters.get("expiresAfter")
        if before is not None and (view["perpetual"] or expires >= _parse(before)):
            return False
        return after is None or view["perpetual"] or expires >= _parse(after)

    found = [view for view in catalog.licenses.values() if keep(view)]
    if "customerId" in filters or "email" in filters:
        return sorted(view["licenseId"] for view in found)
    return [view["licenseId"] for view in sorted(found, key=_sort_value)]


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _sort_value(view: dict[str, Any]) -> str:
    expiry = "9999-12-31T23:59:59Z" if view["perpetual"] else view["expiresAt"][:19] + "Z"
    return f"{expiry}#{view['licenseId']}"


#: Searches that find nothing, on purpose (every other one finds something).
NOTHING = ("nobody@", "unknown", "cy", "+2d")

SEARCHES: list[dict[str, str]] = [
    {"productId": "p"},
    {"productId": "Rdn.Identity"},  # a code
    {"productId": "rdn.identity", "tierId": "PRO"},  # codes, any case
    {"productId": "p", "tierId": "pro"},
    *({"productId": "p", "status": s} for s in rules.STANDINGS),
    {"productId": "q", "status": "expired"},
    {"productId": "q", "status": "active"},
    {"productId": "p", "tenantId": "a"},
    {"productId": "p", "expiresAfter": "+7d", "expiresBefore": "+30d"},
    {"productId": "p", "status": "active", "expiresBefore": "+30d"},
    {"productId": "p", "expiresAfter": "+30d"},  # perpetual licenses too
    {"productId": "p", "tierId": "pro", "status": "active", "expiresBefore": "+16d"},
    {"tenantId": "a"},
    {"tenantId": "default", "status": "active"},
    {"tenantId": "b", "productId": "q"},
    {"tenantId": "default", "expiresAfter": "+12d", "expiresBefore": "+61d"},
    {"customerId": "ada"},
    {"customerId": "ada", "status": "superseded"},
    {"customerId": "ada", "productId": "p", "expiresBefore": "+61d"},
    {"customerId": "bob", "tierId": "ent"},
    {"email": "ADA@example.com"},  # an address in two tenants
    {"email": "ada@example.com", "tenantId": "a"},
    {"email": "ada@example.com", "customerId": "ada_a"},
    {"email": "nobody@example.com"},
    {"email": "ada@example.com", "customerId": "cy"},
    {"productId": "prd_unknown"},
    {"productId": "p", "tierId": "ent", "expiresBefore": "+2d"},
]


def resolve(catalog: Catalog, filters: dict[str, str]) -> dict[str, str]:
    """The search's filters with the catalog's names replaced by ids (codes stay)."""
    resolved = {}
    for name, value in filters.items():
        if name == "productId":
            value = catalog.products.get(value, value)
        elif name == "tierId":
            value = catalog.tiers.get(value, value)
        elif name == "tenantId":
            value = catalog.tenants.get(value, value)
        elif name == "customerId":
            value = catalog.customers.get(value, value)
        elif name.startswith("expires") and value.startswith("+"):
            value = iso(NOW + timedelta(days=int(value[1:-1])))
        resolved[name] = value
    return resolved


def oracle_filters(catalog: Catalog, filters: dict[str, str]) -> dict[str, str]:
    """The filters as the oracle reads them: codes as ids."""
    resolved = dict(filters)
    product = resolved.get("productId", "")
    if product.lower() == "rdn.identity":
        resolved["productId"] = catalog.products["p"]
    if resolved.get("tierId") == "PRO":
        resolved["tierId"] = catalog.tiers["pro"]
    return resolved


def test_every_filter_and_combination_matches_the_oracle_at_every_page_size(
    catalog: Catalog, admin_token: str
) -> None:
    for filters in SEARCHES:  # one catalog for all: building it is the slow part
        check_search(catalog, admin_token, filters)


def check_search(catalog: Catalog, admin_token: str, filters: dict[str, str]) -> None:
    query = resolve(catalog, filters)
    want = expected(catalog, oracle_filters(catalog, query))
    for limit in (1, 2, 100):
        items, pages = search(admin_token, query, limit=limit)
        assert [item["licenseId"] for item in items] == want, (limit, query)
        for item in items:  # the same view as GET /license-keys/{licenseId}
            name = next(
                n for n, v in catalog.licenses.items() if v["licenseId"] == item["licenseId"]
            )
            assert item == catalog.licenses[name]
        for page in pages:
            assert page.count("Scan") == 0
            assert page.count("Query") <= rules.SHARDS * len(rules.STATES) + 1
            assert page.count("BatchGetItem") <= 1
            assert len(page.operations) <= rules.SHARDS * len(rules.STATES) + 4, page.operations
    assert bool(want) != any(word in str(filters) for word in NOTHING), filters


def test_a_status_reads_only_its_own_partitions(catalog: Catalog, admin_token: str) -> None:
    """One standing: one state's shards; a product without one: every state's."""
    query = {"productId": catalog.products["p"], "status": "suspended"}
    _, pages = search(admin_token, query, limit=50)
    assert [page.count("Query") for page in pages] == [rules.SHARDS]
    _, pages = search(admin_token, {"productId": catalog.products["p"]}, limit=50)
    assert [page.count("Query") for page in pages] == [rules.SHARDS * len(rules.STATES)]
    _, pages = search(admin_token, {"customerId": catalog.customers["ada"]}, limit=50)
    assert [(page.count("Query"), page.count("BatchGetItem")) for page in pages] == [(1, 0)]


def test_a_page_examines_a_bounded_number_of_items_and_its_cursor_goes_on(
    catalog: Catalog, admin: Admin, admin_token: str
) -> None:
    """With one item examined per partition and page, a Free license sorting before the
    first Pro one in its partition makes a page empty, yet every Pro license comes, once,
    in order. (Shards follow the random license ids: the Free license is issued until one
    shares that partition.)"""
    first_pro = catalog.licenses["bob_pro"]["licenseId"]  # active, expires in 5 days
    for _ in range(64):
        free = issue(
            admin, catalog.products["p"], catalog.tiers["free"], catalog.customers["bob"], 2
        )
        if rules.shard(free) == rules.shard(first_pro):
            break
    else:
        raise AssertionError("no Free license in the first Pro license's shard")
    query = {"productId": catalog.products["p"], "tierId": catalog.tiers["pro"]}
    items, pages = search(admin_token, query, limit=1)
    assert [i["licenseId"] for i in items] == expected(catalog, query)
    assert len(pages) > len(items)


#: Searches refused, and the code each gets.
REFUSED: list[tuple[dict[str, str], str]] = [
    ({"status": "active"}, "SEARCH_NOT_SERVED"),
    ({}, "SEARCH_NOT_SERVED"),
    ({"tierId": "pro", "expiresBefore": "2030-01-01T00:00:00Z"}, "SEARCH_NOT_SERVED"),
    ({"tenantId": "a", "tierId": "PRO"}, "VALIDATION_FAILED"),  # a code needs its product
    ({"productId": "p", "tierId": "tier_unknown"}, "TIER_NOT_FOUND"),
    ({"productId": "p", "tierId": "vault"}, "TIER_NOT_FOUND"),  # of another product
    ({"productId": "No.Such.Product"}, "PRODUCT_NOT_FOUND"),
    ({"productId": "p", "status": "lapsed"}, "VALIDATION_FAILED"),
    ({"productId": "p", "expiresBefore": "2030-01-01T00:00:00"}, "VALIDATION_FAILED"),
    ({"productId": "p", "expiresAfter": "9999-12-31T23:59:59.5Z"}, "VALIDATION_FAILED"),
    ({"productId": "p", "email": "not an address"}, "VALIDATION_FAILED"),
    ({"productId": "p", "limit": "0"}, "VALIDATION_FAILED"),
    ({"productId": "p", "limit": "101"}, "VALIDATION_FAILED"),
    ({"productId": "p", "sort": "expiresAt"}, "VALIDATION_FAILED"),
    ({"productId": "p", "cursor": "eyJ2IjoxfQ"}, "INVALID_CURSOR"),
    ({"productId": "p", "cursor": "not base64!"}, "INVALID_CURSOR"),
]


def test_bad_searches_are_refused_with_a_problem(catalog: Catalog, admin: Admin) -> None:
    for query, code in REFUSED:
        answer = admin("GET", "/license-keys", query=resolve(catalog, query))
        assert answer.json["code"] == code, (query, answer.text)
        assert answer.status == (400 if code == "INVALID_CURSOR" else 422), query
        if code == "SEARCH_NOT_SERVED":
            assert any("productId" in c for c in answer.json["combinations"])
            assert any("customerId" in c for c in answer.json["combinations"])


def test_forged_cursors_are_refused(catalog: Catalog, admin: Admin) -> None:
    product = catalog.products["p"]
    for document in (
        {"v": 1, "a": "", "n": 1},
        {"v": 1, "a": "x", "n": True},
        {"v": 2, "a": "x", "n": 1},
        {"v": 1, "a": "x", "n": -1},
        {"v": 1, "a": "x", "n": 1, "extra": 1},
        {"v": 1, "a": "x" * 2000, "n": 1},
        [1, 2],
    ):
        cursor = search_store._encode(document) if isinstance(document, dict) else "WzEsMl0"
        answer = admin("GET", "/license-keys", query={"productId": product, "cursor": cursor})
        assert answer.status in (400, 422), (document, answer.text)


# Consistency under writes


def test_pages_stay_consistent_while_licenses_are_written_between_them(
    catalog: Catalog, admin: Admin, admin_token: str
) -> None:
    """Between every two pages a license is issued before the cursor, one after it, one
    not yet listed is revoked and one already listed is suspended: no license comes
    twice, and every one that existed before the first page (and still matches) comes."""
    product, customer = catalog.products["p"], catalog.customers["dee"]
    tier = catalog.tiers["free"]
    before = {v["licenseId"] for v in catalog.licenses.values() if v["productId"] == product}
    pending = sorted(before)

    def write(page: list[str], seen: list[str]) -> None:
        issue(admin, product, tier, customer, 1)  # sorts before the cursor: never listed
        issue(admin, product, tier, customer, 400)  # after it: listed (or not), once
        unseen = [p for p in pending if p not in seen]
        if unseen:
            admin("POST", f"/license-keys/{unseen[-1]}/revoke", {"reason": "between pages"})
        if page:
            admin("POST", f"/license-keys/{page[0]}/suspend", {"reason": "between pages"})

    seen = pages_written_between(
        admin, "/license-keys", {"productId": product}, write, key="licenseId"
    )
    assert len(seen) == len(set(seen)), seen
    assert before <= set(seen)


# Tenant administrators


def test_a_tenant_administrator_searches_within_their_tenant_only(
    catalog: Catalog, aws: CognitoPool
) -> None:
    token = tenant_admin(aws, catalog.tenants["a"])
    own = {
        v["licenseId"] for v in catalog.licenses.values() if v["tenantId"] == catalog.tenants["a"]
    }
    items, _ = search(token, {}, limit=2)  # no filter: their tenant
    assert {i["licenseId"] for i in items} == own and own
    items, _ = search(token, {"productId": catalog.products["p"], "status": "active"}, limit=2)
    assert {i["licenseId"] for i in items} == own
    items, _ = search(token, {"email": "ada@example.com"}, limit=2)
    assert {i["customerId"] for i in items} == {catalog.customers["ada_a"]}
    assert search(token, {"productId": catalog.products["q"]}, limit=2)[0] == []
    for name, value in (
        ("tenantId", catalog.tenants["b"]),
        ("customerId", catalog.customers["cy"]),
    ):
        other = invoke("GET", "/license-keys", token=token, query={name: value})
        missing = invoke("GET", "/license-keys", token=token, query={name: f"{value}x"})
        assert (other.status, other.json.get("items"), other.json.get("code")) == (
            missing.status,
            missing.json.get("items"),
            missing.json.get("code"),
        ), name


# The index keys follow every write path


def stored_keys_are_current() -> int:
    """Every license's stored search keys equal those of its fields; the count checked."""
    checked = 0
    for record in LicenseRecord.scan():
        stored = {name: getattr(record, name) for name in record.search_keys()}
        assert stored == record.search_keys(), record.license_id
        checked += 1
    for customer in CustomerRecord.scan():
        assert customer.email_key == email_key(customer.email)
        assert customer.name_key == rules.name_key(customer.name)
    return checked


def test_every_write_path_keeps_the_search_keys(
    catalog: Catalog, admin: Admin, admin_token: str, product: str, tiers: dict[str, str]
) -> None:
    """Issue, supersede, suspend, revoke (in the catalog fixture), reinstate, renew,
    regenerate, and the license a tenant's provisioning policy issues."""
    set_clock(None)  # the administrator's step-up is fresh now, not in three hours
    suspended = catalog.licenses["dee_pro"]["licenseId"]
    assert admin("POST", f"/license-keys/{suspended}/reinstate", {}).status == 200
    renewed = catalog.licenses["bob_pro"]["licenseId"]
    later = iso(NOW + timedelta(days=90))
    assert admin("POST", f"/license-keys/{renewed}/renew", {"expiresAt": later}).status == 200
    provisioned = admin(
        "POST",
        "/tenants",
        {"name": "Provisioned", "provisioning": {"productId": product, "tierId": tiers["free"]}},
    ).json["tenantId"]
    created = admin(
        "POST", "/customers", {"email": "p@example.com", "name": "P", "tenantId": provisioned}
    )
    assert created.json["provisionedLicense"]["licenseId"]
    assert stored_keys_are_current() == len(catalog.licenses) + 1
    items, _ = search(admin_token, {"tenantId": provisioned}, limit=5)
    assert [i["licenseId"] for i in items] == [created.json["provisionedLicense"]["licenseId"]]
    renewed_view = admin("GET", f"/license-keys/{renewed}").json
    window = {"productId": product, "expiresAfter": iso(NOW + timedelta(days=89))}
    items, _ = search(admin_token, window, limit=5)
    assert renewed_view["licenseId"] in [i["licenseId"] for i in items]


def test_backfill_gives_old_records_their_keys(catalog: Catalog, admin_token: str) -> None:
    """Records written before the indexes existed have no search keys (nor a sibling's
    supersession but in its reason); the backfill writes them, and the searches find
    those records as they would have."""
    for record in LicenseRecord.scan():
        record.update(
            actions=[
                LicenseRecord.search_product.remove(),
                LicenseRecord.search_tenant.remove(),
                LicenseRecord.search_expiry.remove(),
                LicenseRecord.superseded_by.remove(),
            ]
        )
    for customer in CustomerRecord.scan():
        customer.update(
            actions=[CustomerRecord.email_key.remove(), CustomerRecord.name_key.remove()]
        )
    assert search(admin_token, {"productId": catalog.products["p"]}, limit=50)[0] == []
    written = search_store.backfill(log=lambda _: None)
    assert written == {"licenses": len(catalog.licenses), "customers": len(catalog.customers)}
    assert stored_keys_are_current() == len(catalog.licenses)
    for query in ({"productId": catalog.products["p"]}, {"tenantId": "default"}):
        items, _ = search(admin_token, query, limit=50)
        assert items == [
            next(v for v in catalog.licenses.values() if v["licenseId"] == license_id)
            for license_id in expected(catalog, query)
        ]
    assert search_store.backfill(log=lambda _: None) == {"licenses": 0, "customers": 0}


def test_the_sort_keys_order_as_time_does() -> None:
    """Moments have one width, perpetual sorts last, and bounds select as documented."""
    early = rules.expiry_sort(NOW, False, "lic_b")
    late = rules.expiry_sort(NOW + timedelta(seconds=1), False, "lic_a")
    never = rules.expiry_sort(NOW, True, "lic_c")
    assert early < late < never
    criteria = rules.LicenseCriteria(now=utcnow(), expires_before=NOW + timedelta(seconds=1))
    lower, upper = criteria.bounds()
    assert lower is None and upper is not None and early < upper <= late
