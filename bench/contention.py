"""Contention: N racers activate N different machines on one 5-seat license at the
same instant, through the real activate handler, against a moto *server* over HTTP
(``local.aws.EmbeddedAws``: DynamoDB serves one request at a time, as each request is
atomic in AWS). Every trial must end with exactly 5 winners, and the license's stored
``active_seats`` must equal its live activation items.

Latency is per racer, from the barrier's release to its response; the racers share one
interpreter (and its GIL) with the moto server, so absolute figures describe this
harness under a 50-way burst, not AWS.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.support import api_event, isolated_environment, load_handler, median, percentile
from bench.world import new_license, new_tier

SEATS = 5


@dataclass
class Contention:
    racers: int
    trials: int
    seats: int
    correct_trials: int
    failures: list[str]
    statuses: dict[int, int]
    p50_ms: float
    p99_ms: float
    winner_p50_ms: float
    winner_p99_ms: float
    loser_p50_ms: float
    loser_p99_ms: float
    trial_ms: float


def _setup() -> tuple[str, str]:
    from licensing_core import schemas
    from licensing_core.services import catalog
    from licensing_core.store.base import create_missing_tables
    from licensing_core.store.models import ALL_MODELS

    create_missing_tables(ALL_MODELS)
    product = catalog.create_product(schemas.ProductCreate(code="Race", name="Race"))
    return product.product_id, new_tier(product.product_id, {"code": "five", "maxUsers": SEATS})


def _race(key_token: str, racers: int) -> list[tuple[int, float]]:
    handler = load_handler("activate").handler
    events = [
        api_event(
            "POST",
            "/license-activations/activate",
            {"keyToken": key_token, "machineId": f"machine-{n}"},
        )
        for n in range(racers)
    ]
    barrier = threading.Barrier(racers)

    def one(n: int) -> tuple[int, float]:
        barrier.wait()
        started = time.perf_counter()
        status = int(handler(events[n], None)["statusCode"])
        return status, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=racers) as pool:
        return list(pool.map(one, range(racers)))


def _live(license_id: str) -> tuple[int, int]:
    from licensing_core.store.models import ActivationRecord, LicenseRecord

    counter = int(LicenseRecord.get(license_id, consistent_read=True).active_seats)
    live = sum(
        1 for a in ActivationRecord.query(license_id, consistent_read=True) if a.status == "active"
    )
    return counter, live


def run(racers: int, trials: int, *, log: Callable[[str], None] = print) -> Contention:
    from local.aws import EmbeddedAws

    load_handler("activate")  # creates the handlers' logger, at INFO
    handlers_logger = logging.getLogger("licensing")
    level = handlers_logger.level
    # 45 refusals a trial are logged at INFO: keep the output readable (WARNING stays on).
    handlers_logger.setLevel(logging.WARNING)

    aws = EmbeddedAws()
    endpoint = aws.start()
    statuses: Counter[int] = Counter()
    latencies: dict[str, list[float]] = {"all": [], "won": [], "lost": []}
    trial_times: list[float] = []
    failures: list[str] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-race-") as data_dir,
            isolated_environment(
                Path(data_dir),
                LICENSING_AWS_ENDPOINT_URL=endpoint,
                LICENSING_TABLE_PREFIX="bench-races-",
            ),
        ):
            product_id, tier_id = _setup()
            log(f"  {racers} racers x {trials} trials on a {SEATS}-seat license")
            for trial in range(trials):
                key = new_license(product_id, tier_id, f"racer{trial}@example.com")
                license_id, key_token = key.license_id, key.token
                started = time.perf_counter()
                outcome = _race(key_token, racers)
                trial_times.append(time.perf_counter() - started)
                counts = Counter(status for status, _ in outcome)
                statuses.update(counts)
                for status, seconds in outcome:
                    latencies["all"].append(seconds)
                    latencies["won" if status == 201 else "lost"].append(seconds)
                counter, live = _live(license_id)
                if counts[201] != SEATS or counter != live or live != SEATS:
                    failures.append(
                        f"trial {trial}: {dict(counts)}, counter {counter}, live {live}"
                    )
                if trials >= 100 and (trial + 1) % 100 == 0:
                    log(f"    {trial + 1} trials, {len(failures)} incorrect")
    finally:
        aws.stop()
        handlers_logger.setLevel(level)

    def ms(values: list[float], q: float) -> float:
        return percentile(values, q) * 1e3

    return Contention(
        racers=racers,
        trials=trials,
        seats=SEATS,
        correct_trials=trials - len(failures),
        failures=failures[:20],
        statuses=dict(sorted(statuses.items())),
        p50_ms=ms(latencies["all"], 50),
        p99_ms=ms(latencies["all"], 99),
        winner_p50_ms=ms(latencies["won"], 50),
        winner_p99_ms=ms(latencies["won"], 99),
        loser_p50_ms=ms(latencies["lost"], 50),
        loser_p99_ms=ms(latencies["lost"], 99),
        trial_ms=median(trial_times) * 1e3,
    )
