"""Cost model: $ per million heartbeats and activations at AWS list prices, from the
measured handler durations and the DynamoDB capacity each request consumes (counted
from the code path, with item sizes measured on the benchmark's own records), and the
partition math of one license with 10,000 machines heartbeating hourly."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# us-east-1 list prices
LAMBDA_GB_SECOND_ARM = 0.0000133334
LAMBDA_PER_MILLION = 0.20
HTTP_API_PER_MILLION = 1.00  # first 300 M requests a month
WRU_PER_MILLION = 0.625  # on-demand write request units
RRU_PER_MILLION = 0.125  # on-demand read request units
MEMORY_GB = 0.5  # 512 MB, arm64
#: A function gets a whole vCPU at 1,769 MB; at 512 MB its CPU-bound work runs this much slower.
CPU_SCALE_512MB = 1769 / 512
#: Assumed in-region DynamoDB latency per call, for the modeled Lambda duration.
LATENCY_MS = {
    "GetItem": 4.0,
    "Query": 5.0,
    "BatchGetItem": 5.0,
    "TransactGetItems": 7.0,
    "TransactWriteItems": 12.0,
}
#: Per-partition throughput limits.
PARTITION_WCU = 1000
PARTITION_RCU = 3000

ASSUMPTIONS = [
    "Lambda arm64, 512 MB: $0.0000133334 per GB-s (billed per 1 ms) + $0.20 per 1M requests",
    "API Gateway HTTP API: $1.00 per 1M requests (first 300M a month, requests under 512 KB)",
    "DynamoDB on-demand: $0.625 per 1M WRU, $0.125 per 1M RRU; no free tier, no reserved capacity",
    "strongly consistent GetItem/Query: 1 RRU per 4 KB (a miss costs 1 RRU); Query sums the "
    "items it returns before rounding; eventually consistent (GSI) Query: 0.5 RRU per 4 KB",
    "TransactGetItems: 2 RRU per item per 4 KB; TransactWriteItems: 2 WRU per item per 1 KB "
    "(an update counts the larger of the item before and after); a ConditionCheck is costed "
    "like a transactional read, 2 RRU per 4 KB (if AWS bills it as a transactional write, "
    "add 2 WRU, i.e. $1.25 per 1M, per ConditionCheck)",
    "a write that changes attributes projected into a GSI (ALL projection) also writes the "
    "index: 1 WRU per 1 KB (the license's by-customer index, on every seat change)",
    "item sizes: measured on the benchmark's records (attribute names + values, DynamoDB rules)",
    "'today' counts the catalog reads the handler was observed to make in this run",
    "duration 'measured': the handler's median on in-process moto (DynamoDB calls cost moto's "
    "CPU instead of network latency); 'modeled': client-side CPU (moto's time subtracted) x "
    f"{CPU_SCALE_512MB:.2f} (512 MB gets 512/1769 of a vCPU) + per-call latency "
    + ", ".join(f"{k} {v:g} ms" for k, v in LATENCY_MS.items()),
]


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (typed JSON)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        digits = str(Decimal(str(inner)).normalize()).lstrip("-").replace(".", "")
        return (len(digits.lstrip("0") or "0") + 1) // 2 + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in inner)
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: v}) for v in inner)
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def measure_sizes(world: Any) -> dict[str, int]:
    """Sizes (bytes) of the records the hot paths touch, read from moto."""
    floor = world.floor
    client, tables = floor.client, floor.tables

    def get(table: str, key: dict[str, Any]) -> int:
        return item_size(client.get_item(TableName=table, Key=key)["Item"])

    def query(table: str, name: str, value: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = client.query(
            TableName=table,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": name},
            ExpressionAttributeValues={":v": {"S": value}},
        )["Items"]
        return items

    activations = {
        "jws": query(tables.activations, "license_id", world.heartbeat_jws.license_id)[0],
        "jwe": query(tables.activations, "license_id", world.heartbeat_jwe.license_id)[0],
    }
    audits = [
        item
        for item in query(tables.audit, "subject_id", world.heartbeat_jws.license_id)
        if item["action"]["S"] == "activation.created"
    ]
    return {
        "license": get(tables.licenses, {"license_id": {"S": world.heartbeat_jws.license_id}}),
        "customer": get(tables.customers, {"customer_id": {"S": world.heartbeat_jws.customer_id}}),
        "product": get(tables.products, {"product_id": {"S": world.product_id}}),
        "features": sum(map(item_size, query(tables.features, "product_id", world.product_id))),
        "tiers": sum(map(item_size, query(tables.tiers, "product_id", world.product_id))),
        "activation_jws": item_size(activations["jws"]),
        "activation_jwe": item_size(activations["jwe"]),
        "unique": 120,  # MACHINE#<license>#<sha256>: key + owner, measured shape
        "audit": item_size(audits[0]) if audits else 250,
    }


def _r(size: int, consistent: bool = True) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units if consistent else units / 2)


def _w(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass(frozen=True)
class Capacity:
    rru: float
    wru: float
    calls: list[str]

    @property
    def dollars_per_million(self) -> float:
        return self.rru * RRU_PER_MILLION + self.wru * WRU_PER_MILLION


def _catalog(sizes: dict[str, int], reads: int) -> tuple[float, list[str]]:
    """RRU and calls of reading the catalog: product, features, tiers (3), the product's
    version only (1), or nothing (0)."""
    if reads >= 3:
        return _r(sizes["product"]) + _r(sizes["features"]) + _r(sizes["tiers"]), [
            "GetItem",
            "Query",
            "Query",
        ]
    if reads == 1:
        return _r(sizes["product"]), ["GetItem"]
    return 0.0, []


def heartbeat_capacity(
    sizes: dict[str, int], jwe: bool, *, cut: bool, catalog_reads: int = 3
) -> Capacity:
    activation = sizes["activation_jwe" if jwe else "activation_jws"]
    write_rru = 2 * _r(sizes["license"]) + 2 * _r(sizes["customer"])  # two ConditionChecks
    write_wru = 2 * _w(activation)
    if cut:
        return Capacity(
            2 * _r(activation) + 2 * _r(sizes["license"]) + write_rru,
            write_wru,
            ["TransactGetItems", "TransactWriteItems"],
        )
    catalog, catalog_calls = _catalog(sizes, catalog_reads)
    return Capacity(
        _r(activation) + 2 * _r(sizes["license"]) + 2 * _r(sizes["customer"]) + catalog + write_rru,
        write_wru,
        ["GetItem", "TransactGetItems", *catalog_calls, "TransactWriteItems"],
    )


def activate_capacity(
    sizes: dict[str, int], jwe: bool, *, cut: bool, catalog_reads: int = 3
) -> Capacity:
    activation = sizes["activation_jwe" if jwe else "activation_jws"]
    license_after = sizes["license"] + 2
    reads = 2 * _r(sizes["license"]) + 2 * _r(sizes["customer"])
    reads += _r(sizes["license"], consistent=False)  # GSI query: the customer's licenses
    writes = 2 * (_w(activation) + _w(sizes["unique"]) + _w(sizes["audit"]) + _w(license_after))
    writes += _w(license_after)  # the by-customer GSI copy of the license
    calls = ["TransactGetItems", "Query", "TransactWriteItems"]
    if not cut:
        catalog, catalog_calls = _catalog(sizes, catalog_reads)
        reads += catalog + 1  # and the machine-claim GetItem (a miss still costs 1 RRU)
        calls = ["TransactGetItems", *catalog_calls, "GetItem", "Query", "TransactWriteItems"]
    return Capacity(reads, writes, calls)


@dataclass(frozen=True)
class CostRow:
    path: str
    variant: str
    duration_ms: float
    duration_basis: str
    rru: float
    wru: float
    lambda_dollars: float
    dynamodb_dollars: float
    api_dollars: float

    @property
    def total(self) -> float:
        return self.lambda_dollars + self.dynamodb_dollars + self.api_dollars


def _lambda(duration_ms: float) -> float:
    billed = math.ceil(duration_ms)
    return MEMORY_GB * billed / 1000 * LAMBDA_GB_SECOND_ARM * 1e6 + LAMBDA_PER_MILLION


def modeled_ms(client_cpu_ms: float, calls: list[str]) -> float:
    return client_cpu_ms * CPU_SCALE_512MB + sum(LATENCY_MS[call] for call in calls)


def rows(results: list[Any], sizes: dict[str, int]) -> list[CostRow]:
    """Cost rows for heartbeat and activate, JWS and JWE, today and with every cut."""
    found = []
    for result in results:
        base, _, mode = result.path.partition(" ")
        if base not in ("heartbeat", "activate"):
            continue
        capacity = heartbeat_capacity if base == "heartbeat" else activate_capacity
        cut = next((c for c in result.cuts if c.name == "all cuts"), None)
        variants = [("today", result.handler_ms, result.handler_client_ms, False)]
        if cut is not None:
            variants.append(("all cuts", cut.ms, cut.client_ms, True))
        for variant, measured, client, with_cuts in variants:
            units = capacity(
                sizes, mode == "JWE", cut=with_cuts, catalog_reads=result.catalog_reads
            )
            for basis, duration in (
                ("measured", measured),
                ("modeled", modeled_ms(client, units.calls)),
            ):
                found.append(
                    CostRow(
                        path=result.path,
                        variant=variant,
                        duration_ms=duration,
                        duration_basis=basis,
                        rru=units.rru,
                        wru=units.wru,
                        lambda_dollars=_lambda(duration),
                        dynamodb_dollars=units.dollars_per_million,
                        api_dollars=HTTP_API_PER_MILLION,
                    )
                )
    return found


@dataclass(frozen=True)
class Partition:
    activations: int
    heartbeat_seconds: int
    heartbeats_per_second: float
    activation_item_bytes: int
    item_collection_mb: float
    activations_key_wcu: float
    activations_key_rcu: float
    license_item_rcu: float
    max_activations_per_license: int
    full_license_reclaim_query_rru: float
    full_license_reclaim_pages: int


def partition(sizes: dict[str, int], activations: int = 10_000, every: int = 3600) -> Partition:
    """One license, ``activations`` machines heartbeating every ``every`` seconds (JWE items,
    the larger), with the heartbeat as the code does it today."""
    item = sizes["activation_jwe"]
    rate = activations / every
    wcu = rate * 2 * _w(item)  # the transactional update of the activation
    rcu = rate * _r(item)  # the consistent GetItem of the activation
    license_rcu = rate * (2 * _r(sizes["license"]) * 2)  # TransactGet + ConditionCheck
    collection = activations * item
    max_rate = min(PARTITION_WCU / (2 * _w(item)), PARTITION_RCU / (4 * _r(sizes["license"])))
    return Partition(
        activations=activations,
        heartbeat_seconds=every,
        heartbeats_per_second=rate,
        activation_item_bytes=item,
        item_collection_mb=collection / 1e6,
        activations_key_wcu=wcu,
        activations_key_rcu=rcu,
        license_item_rcu=license_rcu,
        max_activations_per_license=int(max_rate * every),
        full_license_reclaim_query_rru=_r(collection),
        full_license_reclaim_pages=math.ceil(collection / 1_000_000),
    )


@dataclass(frozen=True)
class Lever:
    path: str
    change: str
    rru: float
    wru: float
    api_dollars: float
    lambda_dollars: float

    @property
    def total(self) -> float:
        return (
            self.rru * RRU_PER_MILLION
            + self.wru * WRU_PER_MILLION
            + self.api_dollars
            + self.lambda_dollars
        )


#: A heartbeat records itself at most this often (the rest only read and sign).
SPARSE_WRITE_HOURS = 12


def levers(results: list[Any], sizes: dict[str, int]) -> list[Lever]:
    """Further changes, cumulative, each row priced on top of the previous one, starting
    from the measured handler with every cut (JWS paths)."""
    found: list[Lever] = []
    by_path = {r.path: r for r in results}
    heartbeat = by_path.get("heartbeat JWS")
    if heartbeat is not None:
        cut = next((c for c in heartbeat.cuts if c.name == "all cuts"), None)
        duration = cut.ms if cut else heartbeat.handler_ms
        lam = _lambda(duration)
        units = heartbeat_capacity(sizes, False, cut=True)
        act, lic, cus = sizes["activation_jws"], sizes["license"], sizes["customer"]
        write_rru = 2 * _r(lic) + 2 * _r(cus)
        write_wru = 2 * _w(act)
        path = "heartbeat JWS"
        found.append(
            Lever(
                path, "all measured cuts (start)", units.rru, units.wru, HTTP_API_PER_MILLION, lam
            )
        )
        reads = _r(act) + _r(lic)
        found.append(
            Lever(
                path,
                "read with BatchGetItem(ConsistentRead) instead of TransactGetItems "
                "(the write transaction re-checks license and identity)",
                reads + write_rru,
                write_wru,
                HTTP_API_PER_MILLION,
                lam,
            )
        )
        share = 1 / SPARSE_WRITE_HOURS
        found.append(
            Lever(
                path,
                f"record the heartbeat at most every {SPARSE_WRITE_HOURS} h (hourly heartbeats: "
                f"1 in {SPARSE_WRITE_HOURS} writes; dead = silent > TTL still holds, TTL 48 h)",
                reads + share * write_rru,
                share * write_wru,
                HTTP_API_PER_MILLION,
                lam,
            )
        )
        found.append(
            Lever(
                path,
                "serve /license-keys/heartbeat from a Lambda function URL instead of the HTTP API "
                "(no custom domain; the clientId is the credential either way)",
                reads + share * write_rru,
                share * write_wru,
                0.0,
                lam,
            )
        )
    activate = by_path.get("activate JWS")
    if activate is not None:
        cut = next((c for c in activate.cuts if c.name == "all cuts"), None)
        lam = _lambda(cut.ms if cut else activate.handler_ms)
        units = activate_capacity(sizes, False, cut=True)
        path = "activate JWS"
        found.append(
            Lever(
                path, "all measured cuts (start)", units.rru, units.wru, HTTP_API_PER_MILLION, lam
            )
        )
        lean = 400  # the license item without issued_claims / issued_token_sha256
        license_now = sizes["license"] + 2
        saved = 2 * _w(license_now) - 2 * _w(lean) + _w(license_now) - _w(lean)
        found.append(
            Lever(
                path,
                f"license item under 1 KB: issued_claims ({license_now - lean} B) kept in its own "
                "item or the issue audit record, not on the record every seat change rewrites",
                units.rru,
                units.wru - saved,
                HTTP_API_PER_MILLION,
                lam,
            )
        )
        found.append(
            Lever(
                path,
                "licenses by-customer GSI projects INCLUDE(product_id, status) instead of ALL: "
                "a seat change no longer writes the index",
                units.rru,
                units.wru - saved - _w(lean),
                HTTP_API_PER_MILLION,
                lam,
            )
        )
    return found
