"""Handler overhead vs floor: validate, activate (JWS, JWE), heartbeat (JWS, JWE).

Each path runs, interleaved in one loop (so noise from other processes hits all alike):
the real handler (loaded by file path, called with an API Gateway v2 event) and the
floors of ``bench.floor`` (the DynamoDB calls the request needs, then the cryptography
alone), all on one in-process moto. moto's own time per call is recorded apart, so the
client-side (Lambda CPU) time can be compared too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import count
from pathlib import Path
from typing import Any

from bench.cost import measure_sizes
from bench.floor import jwe_encrypt, key_from_jwk, operations, public_jwk
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
class PathResult:
    path: str
    iterations: int
    handler_ms: float
    floor_ms: float
    crypto_ms: float
    handler_client_ms: float
    floor_client_ms: float
    ratio: float
    client_ratio: float
    #: the DynamoDB operations the floor makes, and those the handler made (observed)
    expected: list[str]
    observed: list[str]
    profile: Profile | None = None

    @property
    def drift(self) -> bool:
        """The handler no longer makes the calls the floor assumes."""
        return self.observed != self.expected


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


@dataclass(frozen=True)
class Variants:
    """The callables of one path (handler, floor, crypto) and an untimed cleanup."""

    calls: dict[str, Callable[[], object]]
    after: Callable[[], None] | None


def _variants(world: World, path: str) -> Variants:
    floor = world.floor
    base, _, mode = path.partition(" ")
    jwe = mode == "JWE"
    machines = count()
    variants: dict[str, Callable[[], object]] = {}
    after: Janitor | None = None

    if base == "validate":
        event = api_event("POST", "/license-keys/validate", {"keyToken": world.validate.token})
        variants["handler"] = _handler("validate_license", lambda: event, 200)
        variants["floor"] = lambda: floor.validate(world.validate.token)
        variants["crypto"] = lambda: floor._verify(world.validate.token)
    elif base == "activate":
        key: Key = world.activate_jwe if jwe else world.activate_jws
        pem = world.machine_pem if jwe else None

        def next_event() -> dict[str, Any]:
            return activate_event(key, f"machine-{next(machines)}", pem)

        variants["handler"] = _handler("activate", next_event, 201)
        after = Janitor(world)
        variants["floor"] = lambda: floor.activate(key.token, f"floor-{next(machines)}", pem)

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
        variants["floor"] = lambda: floor.heartbeat(client_id, claims)
        machine_jwk = public_jwk(floor.public_key)

        def crypto() -> None:
            token = floor._sign(floor._machine_claims(claims, client_id, "machine"))
            if jwe:
                jwe_encrypt(token.encode(), key_from_jwk(machine_jwk))

        variants["crypto"] = crypto
    return Variants(variants, after)


def _result(path: str, run: Interleaved) -> PathResult:
    return PathResult(
        path=path,
        iterations=len(run.samples["handler"]),
        handler_ms=run.median_ms("handler"),
        floor_ms=run.median_ms("floor"),
        crypto_ms=run.median_ms("crypto"),
        handler_client_ms=run.client_ms("handler"),
        floor_client_ms=run.client_ms("floor"),
        ratio=run.ratio("handler", "floor"),
        client_ratio=run.ratio("handler", "floor", client=True),
        expected=operations(path.partition(" ")[0]),
        observed=run.operations.get("handler", []),
    )


def run(
    iterations: int,
    warmup: int,
    profile_calls: int,
    *,
    save_profile: bool = True,
    log: Callable[[str], None] = print,
) -> tuple[list[PathResult], dict[str, int]]:
    """Every path measured, and the sizes of the records they touch (for the cost model);
    ``save_profile``: the slowest path's profile replaces the one in ``bench/artifacts``."""
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
            found = _variants(world, path)
            log(f"  {path}: {len(found.calls)} variants x {iterations} iterations")
            measured = interleave(found.calls, iterations, warmup, clock=clock, after=found.after)
            results.append(_result(path, measured))
        try:
            import pyinstrument  # noqa: F401 - a dev dependency the profile needs
        except ImportError:
            log("  no profile: pip install pyinstrument")
            return results, sizes
        slowest = max(results, key=lambda r: r.handler_ms).path
        saving = f", saving {slowest}" if save_profile else ""
        log(f"  profiling every path ({profile_calls} calls each){saving}")
        for index, result in enumerate(results):
            again = _variants(world, result.path)
            profiled = profile(
                result.path,
                again.calls["handler"],
                profile_calls,
                again.after,
                save=save_profile and result.path == slowest,
            )
            results[index] = replace(result, profile=profiled)
    return results, sizes
