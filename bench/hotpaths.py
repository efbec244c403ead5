"""Handler overhead vs floor: validate, activate (JWS, JWE), heartbeat (JWS, JWE).

Each path runs, interleaved in one loop (so noise from other processes hits all alike):
the real handler (loaded by file path, called with an API Gateway v2 event), the
handler with each proposed cut monkeypatched in (``bench.cuts``), and the floors of
``bench.floor`` (same DynamoDB calls, minimal DynamoDB calls, cryptography only),
all on one in-process moto. moto's own time per call is recorded apart, so the
client-side (Lambda CPU) time can be compared too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import count
from pathlib import Path
from typing import Any

from bench import cuts as cut_catalog
from bench.cost import measure_sizes
from bench.floor import MINIMAL, catalog_reads_of, jwe_encrypt, key_from_jwk, public_jwk, today
from bench.profiling import Profile, profile
from bench.support import (
    REGION,
    Interleaved,
    MotoClock,
    api_event,
    interleave,
    isolated_environment,
    load_handler,
)
from bench.world import Key, World, activate_event

PATHS = ("validate", "activate JWS", "activate JWE", "heartbeat JWS", "heartbeat JWE")


@dataclass(frozen=True)
class CutResult:
    name: str
    description: str
    ms: float
    client_ms: float
    #: median of per-iteration (cut / handler) ratios
    vs_handler: float


@dataclass(frozen=True)
class PathResult:
    path: str
    #: how many calls the handler spends reading the catalog today (3, 1 or 0)
    catalog_reads: int
    iterations: int
    handler_ms: float
    same_ms: float
    minimal_ms: float
    crypto_ms: float
    handler_client_ms: float
    same_client_ms: float
    minimal_client_ms: float
    ratio_minimal: float
    ratio_same: float
    client_ratio_minimal: float
    client_ratio_same: float
    calls_same: int
    calls_minimal: int
    #: DynamoDB operations the handler made (observed), and with every cut
    observed: list[str] = field(default_factory=list)
    observed_with_cuts: list[str] = field(default_factory=list)
    #: the handler with every cut, over the minimal floor
    all_cuts_ratio_minimal: float | None = None
    cuts: list[CutResult] = field(default_factory=list)
    profile: Profile | None = None


class Janitor:
    """Deletes what a call wrote to the tables that activations grow, straight from
    moto's in-memory backend (untimed, no request), so that every iteration runs on
    tables of the same size: moto deep-copies each table a transaction touches, so
    growing tables would slow every later call."""

    def __init__(self, world: World) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
        names = world.floor.tables
        self.tables = [
            backend.get_table(name) for name in (names.activations, names.uniques, names.audit)
        ]
        self.baseline = [self._keys(table) for table in self.tables]

    @staticmethod
    def _keys(table: Any) -> set[tuple[Any, Any]]:
        return {(item.hash_key, item.range_key) for item in table.all_items()}

    def __call__(self) -> None:
        for table, baseline in zip(self.tables, self.baseline, strict=True):
            for hash_key, range_key in self._keys(table) - baseline:
                table.delete_item(hash_key, range_key)


def _handler(function: str, event: Callable[[], dict[str, Any]], expect: int) -> Callable[[], None]:
    handle = load_handler(function).handler

    def call() -> None:
        result = handle(event(), None)
        if result["statusCode"] != expect:
            raise AssertionError(f"{function}: {result['statusCode']} {result['body']}")

    return call


def _with(patch: Callable[[], Any], call: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        with patch():
            call()

    return run


@dataclass(frozen=True)
class Variants:
    """The callables of one path (handler, cuts, floors), an untimed cleanup, the cuts'
    descriptions, and how many catalog reads the handler makes today."""

    calls: dict[str, Callable[[], object]]
    after: Callable[[], None] | None
    described: list[tuple[str, str]]
    catalog_reads: int


def _probe(call: Callable[[], object], clock: MotoClock, after: Callable[[], None] | None) -> int:
    """How many DynamoDB calls one handler call makes now."""
    served = len(clock.operations)
    call()
    made = len(clock.operations) - served
    if after is not None:
        after()
    return made


def _variants(world: World, path: str, clock: MotoClock) -> Variants:
    floor = world.floor
    base, _, mode = path.partition(" ")
    jwe = mode == "JWE"
    machines = count()
    variants: dict[str, Callable[[], object]] = {}
    described: list[tuple[str, str]] = []
    after: Janitor | None = None
    reads = 0

    if base == "validate":
        event = api_event("POST", "/license-keys/validate", {"keyToken": world.validate.token})
        variants["handler"] = _handler("validate_license", lambda: event, 200)
        variants["same"] = variants["minimal"] = lambda: floor.validate(world.validate.token)
        variants["crypto"] = lambda: floor._verify(world.validate.token)
    elif base == "activate":
        key: Key = world.activate_jwe if jwe else world.activate_jws
        pem = world.machine_pem if jwe else None

        def next_event() -> dict[str, Any]:
            return activate_event(key, f"machine-{next(machines)}", pem)

        variants["handler"] = _handler("activate", next_event, 201)
        after = Janitor(world)
        reads = catalog_reads_of(base, _probe(variants["handler"], clock, after))
        variants["same"] = lambda: floor.activate(
            key.token, f"floor-{next(machines)}", pem, same_calls=True, catalog_reads=reads
        )
        variants["minimal"] = lambda: floor.activate(
            key.token, f"floor-{next(machines)}", pem, same_calls=False
        )

        def crypto() -> None:
            claims = floor._verify(key.token)
            token = floor._sign(floor._machine_claims(claims, "cid", "machine"))
            if pem is not None:
                from cryptography.hazmat.primitives import serialization

                loaded = serialization.load_pem_public_key(pem.encode())
                jwe_encrypt(token.encode(), key_from_jwk(public_jwk(loaded)))  # type: ignore[arg-type]

        variants["crypto"] = crypto
    else:
        key = world.heartbeat_jwe if jwe else world.heartbeat_jws
        client_id = world.heartbeat_jwe_client if jwe else world.heartbeat_jws_client
        event = api_event("POST", "/license-keys/heartbeat", {"clientId": client_id})
        variants["handler"] = _handler("heartbeat", lambda: event, 200)
        claims = key.claims
        reads = catalog_reads_of(base, _probe(variants["handler"], clock, None))
        variants["same"] = lambda: floor.heartbeat(
            client_id, claims, same_calls=True, catalog_reads=reads
        )
        variants["minimal"] = lambda: floor.heartbeat(client_id, claims, same_calls=False)
        machine_jwk = public_jwk(floor.public_key)

        def crypto() -> None:
            token = floor._sign(floor._machine_claims(claims, client_id, "machine"))
            if jwe:
                jwe_encrypt(token.encode(), key_from_jwk(machine_jwk))

        variants["crypto"] = crypto

    for name, description, patch in cut_catalog.cuts_for(base, jwe):
        variants[f"cut:{name}"] = _with(patch, variants["handler"])
        described.append((name, description))
    return Variants(variants, after, described, reads)


def _result(
    path: str, run: Interleaved, described: list[tuple[str, str]], reads: int
) -> PathResult:
    base = path.partition(" ")[0]
    return PathResult(
        path=path,
        catalog_reads=reads,
        iterations=len(run.samples["handler"]),
        handler_ms=run.median_ms("handler"),
        same_ms=run.median_ms("same"),
        minimal_ms=run.median_ms("minimal"),
        crypto_ms=run.median_ms("crypto"),
        handler_client_ms=run.client_ms("handler"),
        same_client_ms=run.client_ms("same"),
        minimal_client_ms=run.client_ms("minimal"),
        ratio_minimal=run.ratio("handler", "minimal"),
        ratio_same=run.ratio("handler", "same"),
        client_ratio_minimal=run.ratio("handler", "minimal", client=True),
        client_ratio_same=run.ratio("handler", "same", client=True),
        calls_same=len(today(base, reads)),
        calls_minimal=len(MINIMAL[base]),
        observed=run.operations.get("handler", []),
        observed_with_cuts=run.operations.get("cut:all cuts", []),
        all_cuts_ratio_minimal=(
            run.ratio("cut:all cuts", "minimal") if "cut:all cuts" in run.samples else None
        ),
        cuts=[
            CutResult(
                name,
                description,
                run.median_ms(f"cut:{name}"),
                run.client_ms(f"cut:{name}"),
                run.ratio(f"cut:{name}", "handler"),
            )
            for name, description in described
        ],
    )


def run(
    iterations: int, warmup: int, profile_calls: int, *, log: Callable[[str], None] = print
) -> tuple[list[PathResult], dict[str, int]]:
    """Every path measured, and the sizes of the records they touch (for the cost model)."""
    from moto import mock_aws

    from bench import world as seed

    results = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as data_dir,
        isolated_environment(Path(data_dir)),
        mock_aws(),
        MotoClock() as clock,
    ):
        world = seed.build()
        sizes = measure_sizes(world)
        for path in PATHS:
            found = _variants(world, path, clock)
            log(f"  {path}: {len(found.calls)} variants x {iterations} iterations")
            measured = interleave(found.calls, iterations, warmup, clock=clock, after=found.after)
            results.append(_result(path, measured, found.described, found.catalog_reads))
        try:
            import pyinstrument  # noqa: F401 - a dev dependency the profile needs
        except ImportError:
            log("  no profile: pip install pyinstrument")
            return results, sizes
        slowest = max(results, key=lambda r: r.handler_ms).path
        log(f"  profiling every path ({profile_calls} calls each), saving {slowest}")
        for index, result in enumerate(results):
            again = _variants(world, result.path, clock)
            profiled = profile(
                result.path,
                again.calls["handler"],
                profile_calls,
                again.after,
                save=result.path == slowest,
            )
            results[index] = replace(result, profile=profiled)
    return results, sizes
