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

#: A token signed by AWS KMS (the deployments' default signer): one Sign request with an
#: RSA_2048 key, $0.03 per 10,000 (Azure Key Vault's RSA 2048 software keys cost the same).
KMS_SIGN_PER_MILLION = 3.00
#: AWS documents no rate for a ConditionCheck inside TransactWriteItems: the model costs it
#: as a transactional read (2 RRU per 4 KB); a third-party measurement on live DynamoDB
#: (martinhicks.dev, "What a conditional DynamoDB transaction actually costs") found it
#: billed as a transactional write (2 WRU), which the levers price as an alternative.

ASSUMPTIONS = [
    "Lambda arm64, 512 MB: $0.0000133334 per GB-s (billed per 1 ms) + $0.20 per 1M requests",
    "API Gateway HTTP API: $1.00 per 1M requests (first 300M a month, requests under 512 KB)",
    "DynamoDB on-demand: $0.625 per 1M WRU, $0.125 per 1M RRU; no free tier, no reserved capacity",
    "strongly consistent GetItem/Query/BatchGetItem: 1 RRU per 4 KB (a miss costs 1 RRU); Query "
    "sums the items it returns before rounding; eventually consistent (GSI) Query: 0.5 RRU per 4 KB",
    "TransactGetItems: 2 RRU per item per 4 KB; TransactWriteItems: 2 WRU per item per 1 KB "
    "(an update counts the larger of the item before and after); a ConditionCheck is costed "
    "like a transactional read, 2 RRU per 4 KB: AWS documents no rate for it, and one "
    "third-party measurement on live DynamoDB found it billed as a transactional write (2 WRU "
    "per 1 KB of the checked item: the levers price that case)",
    "a write that changes attributes projected into a GSI (ALL projection) also writes the "
    "index: 1 WRU per 1 KB (the license's by-customer index, on every seat change)",
    "signing: the PEM signer (no per-token charge); the KMS signer, the deployments' default, "
    f"adds one Sign per token: ${KMS_SIGN_PER_MILLION:.2f} per 1M (RSA_2048, $0.03 per 10,000)",
    "item sizes: measured on the benchmark's records (attribute names + values, DynamoDB rules)",
    "the product catalog is not read per request (cached per container, re-read at most once "
    "a minute: negligible)",
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
    license = client.get_item(
        TableName=tables.licenses, Key={"license_id": {"S": world.heartbeat_jws.license_id}}
    )["Item"]
    return {
        "license": item_size(license),
        "license_lean": item_size({k: v for k, v in license.items() if k != "issued_claims"}),
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


def _checks(sizes: dict[str, int], *, as_writes: bool) -> tuple[float, float]:
    """(RRU, WRU) of the renewing transaction's two ConditionChecks (license, identity)."""
    checked = (sizes["license"], sizes["customer"])
    if as_writes:
        return 0.0, float(sum(2 * _w(size) for size in checked))
    return sum(2 * _r(size) for size in checked), 0.0


def heartbeat_capacity(
    sizes: dict[str, int], jwe: bool, *, batch_read: bool = False, checks_as_writes: bool = False
) -> Capacity:
    """One heartbeat: activation and license in one TransactGetItems (or one
    BatchGetItem with ConsistentRead), then the renewing TransactWriteItems."""
    activation = sizes["activation_jwe" if jwe else "activation_jws"]
    per_item = 1 if batch_read else 2
    reads = per_item * (_r(activation) + _r(sizes["license"]))
    check_rru, check_wru = _checks(sizes, as_writes=checks_as_writes)
    read_call = "BatchGetItem" if batch_read else "TransactGetItems"
    return Capacity(
        reads + check_rru, 2 * _w(activation) + check_wru, [read_call, "TransactWriteItems"]
    )


def activate_capacity(
    sizes: dict[str, int], jwe: bool, *, license_bytes: int | None = None, index: bool = True
) -> Capacity:
    """One new activation: license and identity in one TransactGetItems, the siblings'
    index Query, and the seat transaction (activation, machine claim, audit, counter);
    ``index``: the seat change also writes the by-customer index (ALL projection)."""
    activation = sizes["activation_jwe" if jwe else "activation_jws"]
    license_after = (license_bytes or sizes["license"]) + 2
    reads = 2 * _r(sizes["license"]) + 2 * _r(sizes["customer"])
    reads += _r(sizes["license"], consistent=False)  # GSI query: the customer's licenses
    writes = 2 * (_w(activation) + _w(sizes["unique"]) + _w(sizes["audit"]) + _w(license_after))
    if index:
        writes += _w(license_after)
    return Capacity(reads, writes, ["TransactGetItems", "Query", "TransactWriteItems"])


@dataclass(frozen=True)
class CostRow:
    path: str
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
    """Cost rows for heartbeat and activate, JWS and JWE, with the measured and the
    modeled duration."""
    found = []
    for result in results:
        base, _, mode = result.path.partition(" ")
        if base not in ("heartbeat", "activate"):
            continue
        capacity = heartbeat_capacity if base == "heartbeat" else activate_capacity
        units = capacity(sizes, mode == "JWE")
        for basis, duration in (
            ("measured", result.handler_ms),
            ("modeled", modeled_ms(result.handler_client_ms, units.calls)),
        ):
            found.append(
                CostRow(
                    path=result.path,
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
    the larger), with the heartbeat as the code does it."""
    item = sizes["activation_jwe"]
    rate = activations / every
    wcu = rate * 2 * _w(item)  # the transactional update of the activation
    rcu = rate * 2 * _r(item)  # the activation's part of the TransactGetItems
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
    """A change priced on top of today's code (``change`` names the levers combined)."""

    path: str
    change: str
    #: whether it keeps every invariant, and why it was or was not taken
    verdict: str
    rru: float
    wru: float
    api_dollars: float
    lambda_dollars: float
    signer_dollars: float = 0.0
    #: shown in the summary table too
    summary: bool = False

    @property
    def total(self) -> float:
        return (
            self.rru * RRU_PER_MILLION
            + self.wru * WRU_PER_MILLION
            + self.api_dollars
            + self.lambda_dollars
            + self.signer_dollars
        )


#: A heartbeat records itself at most this often (the rest only read and sign).
SPARSE_WRITE_HOURS = 12

BATCH_READ = "read with BatchGetItem(ConsistentRead) instead of TransactGetItems"
SPARSE = f"record the heartbeat at most every {SPARSE_WRITE_HOURS} h (hourly heartbeats)"
FUNCTION_URL = "serve the heartbeat from a Lambda function URL instead of the HTTP API"
VERDICTS = {
    BATCH_READ: "keeps the invariants (the renewing write re-checks license and identity; "
    "the two reads need not be one snapshot); not taken: $0.25 per 1M for a hand-written "
    "two-table BatchGetItem (unprocessed keys, retries, error mapping) outside PynamoDB",
    SPARSE: "breaks them: 11 heartbeats in 12 would sign on a read, so a revoke landing "
    "between that read and the answer no longer wins (no issuing write to check it), and "
    "last_heartbeat_at lags by up to 12 h, so a dead seat would be reclaimed while the "
    "machine's last token is still valid unless tokens expire at the last recorded "
    "heartbeat + TTL; not taken",
    FUNCTION_URL: "keeps the invariants (the clientId is the credential either way); not "
    "taken: every route sits behind the one HTTP API (one domain, stage throttling, access "
    "logs); a second public endpoint for one route is a design change",
}


def levers(results: list[Any], sizes: dict[str, int]) -> list[Lever]:
    """Further changes, each priced on top of today's measured handler (JWS paths), then
    the combinations that matter for the $2 target."""
    found: list[Lever] = []
    by_path = {r.path: r for r in results}
    heartbeat = by_path.get("heartbeat JWS")
    if heartbeat is not None:
        path = "heartbeat JWS"
        lam = _lambda(heartbeat.handler_ms)
        act = sizes["activation_jws"]
        today = heartbeat_capacity(sizes, False)
        batch = heartbeat_capacity(sizes, False, batch_read=True)

        def sparse(per_item: int) -> tuple[float, float]:
            """Every heartbeat reads activation, license and identity (2 RRU per item in
            a TransactGetItems, 1 in a BatchGetItem); 1 in N also runs the renewing
            transaction (its two checks and the update)."""
            share = 1 / SPARSE_WRITE_HOURS
            check_rru, _ = _checks(sizes, as_writes=False)
            reads = per_item * (_r(act) + _r(sizes["license"]) + _r(sizes["customer"]))
            return reads + share * check_rru, share * 2 * _w(act)

        api = HTTP_API_PER_MILLION

        def lever(
            change: str,
            verdict: str,
            units: tuple[float, float],
            on_api: float = api,
            signer: float = 0.0,
            summary: bool = False,
        ) -> None:
            rru, wru = units
            found.append(Lever(path, change, verdict, rru, wru, on_api, lam, signer, summary))

        lever("today", "the code as measured", (today.rru, today.wru))
        lever(BATCH_READ, VERDICTS[BATCH_READ], (batch.rru, batch.wru))
        lever(FUNCTION_URL, VERDICTS[FUNCTION_URL], (today.rru, today.wru), on_api=0.0)
        lever(SPARSE, VERDICTS[SPARSE], sparse(2))
        safe = "both safe levers: BatchGetItem + function URL"
        lever(safe, "", (batch.rru, batch.wru), on_api=0.0, summary=True)
        lever("sparse writes + BatchGetItem", "", sparse(1), summary=True)
        as_writes = heartbeat_capacity(sizes, False, checks_as_writes=True)
        lever(
            "today, if a ConditionCheck is billed as a transactional write",
            "the license item (over 1 KB) then costs 4 WRU per heartbeat",
            (as_writes.rru, as_writes.wru),
            summary=True,
        )
        lean_sizes = {**sizes, "license": sizes["license_lean"]}
        lean = heartbeat_capacity(lean_sizes, False, checks_as_writes=True)
        lever(
            "same, with the license item under 1 KB (issued_claims kept elsewhere)",
            LEAN_LICENSE_VERDICT,
            (lean.rru, lean.wru),
        )
        lever(
            "today, with the KMS signer (the deployments' default)",
            "one KMS Sign per token",
            (today.rru, today.wru),
            signer=KMS_SIGN_PER_MILLION,
            summary=True,
        )
    activate = by_path.get("activate JWS")
    if activate is not None:
        path = "activate JWS"
        lam = _lambda(activate.handler_ms)
        today = activate_capacity(sizes, False)
        lean = activate_capacity(sizes, False, license_bytes=sizes["license_lean"])
        narrow = activate_capacity(sizes, False, index=False)
        api = HTTP_API_PER_MILLION
        found.append(Lever(path, "today", "the code as measured", today.rru, today.wru, api, lam))
        found.append(
            Lever(
                path,
                f"license item under 1 KB ({sizes['license_lean']} B): issued_claims "
                f"({sizes['license'] - sizes['license_lean']} B) kept in a record of its own",
                LEAN_LICENSE_VERDICT,
                lean.rru,
                lean.wru,
                api,
                lam,
            )
        )
        found.append(
            Lever(
                path,
                "licenses by-customer GSI projects INCLUDE(product_id, status, created_by) "
                "instead of ALL: a seat change no longer writes the index",
                NARROW_INDEX_VERDICT,
                narrow.rru,
                narrow.wru,
                api,
                lam,
            )
        )
    return found


LEAN_LICENSE_VERDICT = (
    "keeps the invariants; not taken: the last issued claims (read only by the audit) need "
    "a stored record of their own, written with each issue, regenerate and renew: a new "
    "model and table"
)
NARROW_INDEX_VERDICT = (
    "keeps the invariants; not taken: CloudFormation cannot change a deployed index's "
    "projection (a new index name and a backfill), and the listings (GET "
    "/customers/{id}/license-keys, GET /user/licenses) would need a BatchGetItem of the "
    "full records per page, for $0.63 per 1M activations"
)
