"""What every benchmark shares: a hermetic environment, API Gateway events, handlers
loaded by file path (as Lambda loads them), and robust statistics."""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
LAYER = ROOT / "layers" / "licensing_core" / "python"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ISSUER = "https://licensing.bench"
REGION = "us-east-1"

#: The environment of ``tests/conftest.py``: fake credentials, one region, no profile.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def bench_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """A copy of ``os.environ`` without any real AWS or LICENSING_* setting, plus the
    fake credentials, a signing key in ``data_dir`` and the bench issuer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LICENSING_"))}
    env.update(FAKE_AWS)
    env["LICENSING_SIGNING_KEY_PATH"] = str(data_dir / "keys" / "signing.pem")
    env["LICENSING_ISSUER"] = ISSUER
    env.update(extra)
    return env


@contextmanager
def isolated_environment(data_dir: Path, **extra: str) -> Iterator[None]:
    """Apply :func:`bench_environment` to this process (and restore it afterwards),
    forgetting cached settings, signers and connections on the way in and out."""
    from licensing_core.settings import reset_settings

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(bench_environment(data_dir, **extra))
    reset_settings()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()


_handlers: dict[str, ModuleType] = {}


def load_handler(function: str) -> ModuleType:
    """Import ``functions/<function>/handler.py`` by file path, as Lambda does."""
    module = _handlers.get(function)
    if module is None:
        path = FUNCTIONS / function / "handler.py"
        spec = importlib.util.spec_from_file_location(f"functions.{function}.handler", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _handlers[function] = module
    return module


def function_names() -> list[str]:
    return sorted(p.parent.name for p in FUNCTIONS.glob("*/handler.py"))


def api_event(method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as ``tests/support.py`` builds."""
    from licensing_core.routes import match

    found = match(method, path)
    assert found, f"no route for {method} {path}"
    route, params = found
    headers = {"host": "api.bench", "x-forwarded-proto": "https"}
    if body is not None:
        headers["content-type"] = "application/json"
    return {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "queryStringParameters": None,
        "pathParameters": params or None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "domainName": "api.bench",
            "routeKey": route.route_key,
            "stage": "$default",
            "http": {
                "method": method,
                "path": path,
                "sourceIp": "198.51.100.7",
                "userAgent": "bench",
            },
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def invoke(function: str, event: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """Call a handler; its status and JSON body."""
    result = load_handler(function).handler(event, None)
    return int(result["statusCode"]), json.loads(result["body"])


# Statistics


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class MotoClock:
    """Seconds spent inside moto's in-process request handling (the stand-in for
    DynamoDB's own service time), so that client-side time can be told apart."""

    def __init__(self) -> None:
        self.total = 0.0
        #: every operation served, in order (``GetItem``, ``TransactWriteItems``...)
        self.operations: list[str] = []
        self._original: Any = None

    def __enter__(self) -> MotoClock:
        from moto.core.botocore_stubber import BotocoreStubber

        original = self._original = BotocoreStubber.process_request
        clock = self

        def timed(stubber: BotocoreStubber, request: Any) -> Any:
            target = request.headers.get("X-Amz-Target", b"")
            target = target.decode() if isinstance(target, bytes) else str(target)
            clock.operations.append(target.rpartition(".")[2] or "?")
            started = time.perf_counter()
            try:
                return original(stubber, request)
            finally:
                clock.total += time.perf_counter() - started

        BotocoreStubber.process_request = timed  # type: ignore[method-assign, assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        BotocoreStubber.process_request = self._original  # type: ignore[method-assign]


@dataclass(frozen=True)
class Interleaved:
    """Per-variant samples (seconds) of one interleaved run: the wall time of each
    call, and the part of it spent inside moto."""

    samples: dict[str, list[float]]
    inside: dict[str, list[float]]
    #: the DynamoDB operations of each variant's calls, the most frequent sequence (a
    #: cache refreshed once a minute adds a read to a call now and then)
    operations: dict[str, list[str]]

    def median_ms(self, name: str) -> float:
        return median(self.samples[name]) * 1e3

    def client_ms(self, name: str) -> float:
        """Median time outside moto: what the Lambda would spend on CPU."""
        return median(self.client(name)) * 1e3

    def client(self, name: str) -> list[float]:
        return [a - b for a, b in zip(self.samples[name], self.inside[name], strict=True)]

    def ratio(self, numerator: str, denominator: str, *, client: bool = False) -> float:
        """Median of the per-iteration ratios (robust to drift shared by both)."""
        top = self.client(numerator) if client else self.samples[numerator]
        bottom = self.client(denominator) if client else self.samples[denominator]
        return median([a / b for a, b in zip(top, bottom, strict=True) if b > 0])


def interleave(
    variants: Mapping[str, Callable[[], object]],
    iterations: int,
    warmup: int,
    *,
    clock: MotoClock | None = None,
    after: Callable[[], object] | None = None,
) -> Interleaved:
    """Run every variant once per iteration, rotating their order, so that drift and
    noise from other processes hit all of them alike; ``after`` runs untimed after
    each call (to undo its writes and keep moto's tables the same size)."""
    names = list(variants)
    samples: dict[str, list[float]] = {name: [] for name in names}
    inside: dict[str, list[float]] = {name: [] for name in names}
    sequences: dict[str, Counter[tuple[str, ...]]] = {name: Counter() for name in names}
    gc.collect()
    for i in range(warmup + iterations):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            before = clock.total if clock else 0.0
            served = len(clock.operations) if clock else 0
            started = time.perf_counter()
            variants[name]()
            elapsed = time.perf_counter() - started
            moto = (clock.total - before) if clock else 0.0
            if clock:
                sequences[name][tuple(clock.operations[served:])] += 1
                del clock.operations[:]
            if after is not None:
                after()
            if i >= warmup:
                samples[name].append(elapsed)
                inside[name].append(moto)
    operations = {
        name: list(counted.most_common(1)[0][0]) for name, counted in sequences.items() if counted
    }
    return Interleaved(samples, inside, operations)
