"""The operator's license search at 100,000 licenses: p50 of a page and the DynamoDB
calls it makes, against a moto *server* (``local.aws.EmbeddedAws``, whose queries look
only at the partition they ask for, as DynamoDB's do).

The licenses and identities are seeded in bulk straight into the tables (BatchWriteItem,
with the search keys ``domain/search`` derives, as every write path writes them): a
vendor's spread of three products (one holding most licenses), three tiers, 40 tenants,
every standing and expiries over four years (a tenth perpetual). Each search is the
service function the handler calls once it authenticated (``services/search``), timed
page by page; every DynamoDB call is counted by a botocore hook.

    python -m bench.search            # 100,000 licenses; rewrites its RESULTS.md section
    python -m bench.search --quick    # 10,000 licenses, fewer pages
    python -m bench --only search     # the same, as a section of the whole run
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.support import ARTIFACTS, ROOT, isolated_environment, median

if TYPE_CHECKING:
    from local.aws import EmbeddedAws

FIGURES = ARTIFACTS / "search.json"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## License search at 100,000 licenses"
LICENSES, QUICK_LICENSES = 100_000, 10_000
PAGES = 5
TENANTS = 40
#: product code -> share of the licenses
PRODUCTS = {"Big": 0.8, "Mid": 0.15, "Small": 0.05}
#: tier code -> share; state -> share
TIERS = {"free": 0.6, "pro": 0.35, "enterprise": 0.05}
STATES = {"active": 0.82, "suspended": 0.03, "revoked": 0.05, "superseded": 0.10}
LICENSES_PER_IDENTITY = 4

Log = Callable[[str], None]


@dataclass
class Scenario:
    """One search: its filters, and per page its time and calls."""

    name: str
    filters: dict[str, str]
    pages_ms: list[float] = field(default_factory=list)
    #: the part of each page's time spent inside moto's DynamoDB (its Query sorts the
    #: partition it reads in Python): the rest is what the function itself spends
    moto_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    batch_gets: list[int] = field(default_factory=list)
    other_calls: list[int] = field(default_factory=list)
    items: list[int] = field(default_factory=list)

    @property
    def outside_ms(self) -> list[float]:
        """Each page's time outside moto: the function's own (threads, HTTP, parsing)."""
        return [page - moto for page, moto in zip(self.pages_ms, self.moto_ms, strict=True)]


@dataclass
class Figures:
    licenses: int
    identities: int
    seed_seconds: float
    scenarios: list[Scenario]
    date: str = ""
    quick: bool = False

    def save(self, path: Path = FIGURES) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path = FIGURES) -> Figures | None:
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        raw["scenarios"] = [Scenario(**s) for s in raw["scenarios"]]
        return cls(**raw)


# --- Counting DynamoDB calls -------------------------------------------------------


class Calls:
    """Every DynamoDB operation this process sends while counting (every thread), and
    the time the embedded DynamoDB spent answering them."""

    def __init__(self) -> None:
        self.operations: Counter[str] = Counter()
        self.inside = 0.0
        self._lock = threading.Lock()
        self.counting = False

    def timed(self, call: Callable[..., Any]) -> Callable[..., Any]:
        """``call`` (a moto backend method), adding its time to :attr:`inside`."""

        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.inside += time.perf_counter() - started  # one request at a time

        return run

    def hook(self, model: Any, **_: Any) -> None:
        if self.counting:
            with self._lock:
                self.operations[model.name] += 1

    @contextmanager
    def count(self) -> Iterator[Counter[str]]:
        self.operations = Counter()
        self.inside = 0.0
        self.counting = True
        try:
            yield self.operations
        finally:
            self.counting = False


def _install(calls: Calls, aws: EmbeddedAws) -> None:
    from botocore.handlers import BUILTIN_HANDLERS

    BUILTIN_HANDLERS.append(("before-parameter-build.dynamodb", calls.hook))
    for name in ("query", "batch_get_item", "get_item"):
        setattr(aws.dynamodb, name, calls.timed(getattr(aws.dynamodb, name)))


# --- Seeding -------------------------------------------------------------------------


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _catalog() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The products and their tiers, created through the catalog service."""
    from licensing_core import schemas
    from licensing_core.services import catalog

    from bench.world import new_tier

    products, tiers = {}, {}
    for code in PRODUCTS:
        product = catalog.create_product(schemas.ProductCreate(code=code, name=code))
        products[code] = product.product_id
        tiers[code] = {
            tier: new_tier(product.product_id, {"code": tier, "maxUsers": 5}) for tier in TIERS
        }
    return products, tiers


def _seed(
    aws: EmbeddedAws, count: int, now: datetime, log: Log
) -> tuple[dict[str, str], dict[str, dict[str, str]], float]:
    """``count`` licenses and their identities, put straight into the embedded
    DynamoDB (as BatchWriteItem would, without the HTTP); the catalog's ids and the
    seconds it took."""
    from licensing_core.domain import search
    from licensing_core.domain.emails import email_key
    from licensing_core.settings import get_settings
    from licensing_core.store.base import create_missing_tables
    from licensing_core.store.models import ALL_MODELS
    from pynamodb.attributes import UTCDateTimeAttribute

    moment = UTCDateTimeAttribute().serialize  # the stored form of a time
    started = time.perf_counter()
    create_missing_tables(ALL_MODELS)
    products, tiers = _catalog()
    settings = get_settings()
    rng = random.Random(20)  # a reproducible spread
    tenant_ids = ["default"] + [f"tnt_bench{n:02d}" for n in range(TENANTS - 1)]
    writes: dict[str, list[dict[str, Any]]] = {"customers": [], "licenses": []}
    stamp = moment(now)
    identities = count // LICENSES_PER_IDENTITY
    for n in range(identities):
        email, name = f"person{n}@example.com", f"Person {n:06d}"
        writes["customers"].append(
            {
                "customer_id": {"S": f"cus_bench{n:07d}"},
                "tenant_id": {"S": tenant_ids[n % TENANTS if n % 3 else 0]},
                "email": {"S": email},
                "email_key": {"S": email_key(email)},
                "name": {"S": name},
                "name_key": {"S": search.name_key(name)},
                "kind": {"S": "human"},
                "status": {"S": "active"},
                "metadata": {"S": "{}"},
                "created_at": {"S": stamp},
                "updated_at": {"S": stamp},
            }
        )
    for n in range(count):
        customer = n % identities
        tenant = tenant_ids[customer % TENANTS if customer % 3 else 0]
        product = _pick(rng, PRODUCTS)
        state = _pick(rng, STATES)
        perpetual = rng.random() < 0.1
        expires = now + timedelta(days=rng.uniform(-365, 3 * 365))
        license_id = f"lic_bench{n:08d}"
        keys = search.license_keys(
            license_id=license_id,
            product_id=products[product],
            tenant_id=tenant,
            status="revoked" if state == "superseded" else state,
            superseded_by="lic_newer" if state == "superseded" else None,
            expires_at=expires,
            perpetual=perpetual,
        )
        item = {
            "license_id": {"S": license_id},
            "product_id": {"S": products[product]},
            "product_code": {"S": product},
            "tier_id": {"S": tiers[product][_pick(rng, TIERS)]},
            "customer_id": {"S": f"cus_bench{customer:07d}"},
            "tenant_id": {"S": tenant},
            "status": {"S": "revoked" if state == "superseded" else state},
            "perpetual": {"BOOL": perpetual},
            "expires_at": {"S": moment(expires.replace(microsecond=0))},
            "generation": {"N": "1"},
            "active_seats": {"N": "0"},
            "created_at": {"S": stamp},
            "updated_at": {"S": stamp},
            **{name: {"S": value} for name, value in keys.items()},
        }
        if state == "superseded":
            item["superseded_by"] = {"S": "lic_newer"}
        writes["licenses"].append(item)
    for logical, items in writes.items():
        table = settings.table_name(logical)
        with aws.lock:  # as the server would serve them, one at a time
            for item in items:
                aws.dynamodb.put_item(table, item)
        log(f"  {len(items):,} {logical} seeded")
    return products, tiers, time.perf_counter() - started


# --- Searching -----------------------------------------------------------------------


def _scenarios(
    products: dict[str, str], tiers: dict[str, dict[str, str]], now: datetime
) -> list[Scenario]:
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (month + timedelta(days=32)).replace(day=1)
    big, pro = products["Big"], tiers["Big"]["pro"]
    window = {"expiresAfter": month.isoformat(), "expiresBefore": following.isoformat()}
    return [
        Scenario("Pro licenses of the big product expiring this month (active)",
                 {"productId": big, "tierId": pro, "status": "active", **window}),
        Scenario("the big product's expired licenses", {"productId": big, "status": "expired"}),
        Scenario("the big product, every standing", {"productId": big}),
        Scenario("the big product's superseded licenses", {"productId": big, "status": "superseded"}),
        Scenario("enterprise (5%) of the big product: a filtered tier",
                 {"productId": big, "tierId": tiers["Big"]["enterprise"]}),
        Scenario("a small tenant's active licenses", {"tenantId": "tnt_bench07", "status": "active"}),
        Scenario("an identity's licenses, by email", {"email": "Person41@Example.com"}),
    ]  # fmt: skip


def _run(scenario: Scenario, pages: int, calls: Calls) -> None:
    """Up to ``pages`` pages of 50, following the cursor (from the start again at its
    end); one warm-up page first."""
    from licensing_core import schemas
    from licensing_core.services import search

    cursor: str | None = None
    for n in range(pages + 1):
        query = schemas.LicenseSearch.model_validate(
            {**scenario.filters, "limit": 50, "cursor": cursor}
        )
        with calls.count() as operations:
            started = time.perf_counter()
            page = search.find_licenses(query, tenant=None)
            elapsed = time.perf_counter() - started
        cursor = page.next_cursor
        if n == 0:
            continue
        scenario.pages_ms.append(elapsed * 1e3)
        scenario.moto_ms.append(calls.inside * 1e3)
        scenario.queries.append(operations["Query"])
        scenario.batch_gets.append(operations["BatchGetItem"])
        scenario.other_calls.append(
            sum(operations.values()) - operations["Query"] - operations["BatchGetItem"]
        )
        scenario.items.append(len(page.items))
        assert operations["Scan"] == 0, scenario.name


def run(licenses: int = LICENSES, pages: int = PAGES, *, log: Log = print) -> Figures:
    """Seed ``licenses``, then time ``pages`` pages of each search (after one warm-up)."""
    from local.aws import EmbeddedAws

    aws = EmbeddedAws()
    endpoint = aws.start()
    calls = Calls()
    _install(calls, aws)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-search-") as data_dir,
            isolated_environment(
                Path(data_dir),
                LICENSING_AWS_ENDPOINT_URL=endpoint,
                LICENSING_TABLE_PREFIX="bench-search-",
            ),
        ):
            products, tiers, seconds = _seed(aws, licenses, now, log)
            log(f"  seeded in {seconds:.0f} s")
            scenarios = _scenarios(products, tiers, now)
            for scenario in scenarios:
                _run(scenario, pages, calls)
                log(
                    f"  {scenario.name}: p50 {median(scenario.pages_ms):.0f} ms, "
                    f"{median(scenario.outside_ms):.0f} ms outside moto"
                )
    finally:
        aws.stop()
    return Figures(
        licenses,
        licenses // LICENSES_PER_IDENTITY,
        seconds,
        scenarios,
        date=now.strftime("%Y-%m-%d"),
        quick=licenses < LICENSES,
    )


# --- RESULTS.md ----------------------------------------------------------------------


def markdown(figures: Figures) -> list[str]:
    out = [SECTION, ""]
    out.append(
        f"`python -m bench.search{' --quick' if figures.quick else ''}` ({figures.date}): "
        f"{figures.licenses:,} licenses of {figures.identities:,} identities in {TENANTS} "
        "tenants, three products (80/15/5%), three tiers (60/35/5%), every standing, "
        f"expiries over four years, seeded in bulk in {figures.seed_seconds:.0f} s into a "
        "moto server whose queries read only the partition asked for. "
        f"{len(figures.scenarios[0].pages_ms)} pages of 50 per search after a warm-up one, "
        "through `services/search.find_licenses` (the handler's call once authenticated), "
        "following the cursor: the page's p50, the part of it spent outside moto's "
        "DynamoDB, and the DynamoDB calls of a page (the most seen; never a Scan)."
    )
    out += [
        "",
        "| search | p50 ms | outside moto, p50 ms | Queries | BatchGetItem | other calls "
        "| items per page (median) |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in figures.scenarios:
        out.append(
            f"| {s.name} | {median(s.pages_ms):.0f} | {median(s.outside_ms):.0f} | "
            f"{max(s.queries)} | {max(s.batch_gets)} | {max(s.other_calls)} | "
            f"{median([float(i) for i in s.items]):.0f} |"
        )
    out += [
        "",
        "Where the time goes: moto answers each Query in Python by sorting the whole "
        "partition it reads (a state shard of the big product holds about 16,000 licenses "
        "here) and serves one request at a time, so a page reading 16 partitions costs 16 "
        "such sorts; DynamoDB reads only the page from its sorted partition, and the 16 "
        "Queries run in parallel. What DynamoDB bills is the calls: one Query per (state, "
        "shard) partition (4 for one standing, 16 for none), each reading at most the page "
        "size of index items, and one BatchGetItem for the page's records (an identity's "
        "licenses need none: that index holds whole records). A rare tier is a filter, not "
        "a key: its pages read as much and hold fewer items, the cursor going on.",
    ]
    return out


def write_section(figures: Figures, path: Path = RESULTS) -> None:
    from bench.report import replace_section

    path.write_text(replace_section(path.read_text(), SECTION, markdown(figures)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 licenses, fewer pages")
    parser.add_argument("--no-write", action="store_true", help="print, write nothing")
    args = parser.parse_args(argv)
    figures = run(QUICK_LICENSES if args.quick else LICENSES)
    print("\n".join(markdown(figures)))
    if not args.no_write:
        figures.save()
        write_section(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
