"""Seat invariants under real concurrency: threads against a moto *server* over HTTP
(DynamoDB serves one request at a time, as each request is atomic in AWS), with and
without injected storage faults."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from licensing_core import schemas
from licensing_core.domain.errors import DomainError
from licensing_core.services import catalog, identities
from licensing_core.settings import reset_settings
from licensing_core.store.base import create_missing_tables
from licensing_core.store.models import ALL_MODELS, ActivationRecord, LicenseRecord, TenantRecord

from local.aws import EmbeddedAws
from tests.support import invoke, seeded_license, seeded_tier

THREADS = 50
SEATS = 5
TRIALS = 20


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    aws = EmbeddedAws()
    yield aws.start()
    aws.stop()


@pytest.fixture(scope="module")
def tier_ids() -> dict[str, str]:
    return {}


@pytest.fixture
def five_seat_tier(
    moto_server: str, monkeypatch: pytest.MonkeyPatch, tier_ids: dict[str, str]
) -> dict[str, str]:
    monkeypatch.setenv("LICENSING_AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("LICENSING_TABLE_PREFIX", "races-")
    reset_settings()
    if not tier_ids:
        create_missing_tables(ALL_MODELS)
        product_id, tier_id = seeded_tier("Race", SEATS)
        tier_ids.update(product=product_id, tier=tier_id)
    return tier_ids


def test_twenty_concurrent_usage_reports_never_exceed_the_quota(
    five_seat_tier: dict[str, str],
) -> None:
    """Quota 100, 20 reporters of 7: 14 fit (98); retries of every key count once."""
    tier = catalog.create_tier(
        five_seat_tier["product"],
        schemas.TierCreate(
            code=f"metered-{random.getrandbits(32)}",
            name="Metered",
            monthly_price=0,
            annual_price=0,
            currency="EUR",
            billing_periods=["monthly"],
            max_users=SEATS,
            quotas={"api_calls": schemas.Quota(limit=100)},
        ),
    )
    _, key_token = seeded_license(five_seat_tier["product"], tier.tier_id)

    def report(n: int) -> int:
        return invoke(
            "POST",
            "/usage",
            body={
                "keyToken": key_token,
                "meter": "api_calls",
                "quantity": 7,
                "idempotencyKey": f"k{n}",
            },
        ).status

    for _ in range(2):  # the second round retries every key
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = Counter(pool.map(report, range(20)))
        assert statuses == Counter({200: 14, 429: 6}), statuses


def race(key_token: str, machines: list[str]) -> Counter[int]:
    barrier = threading.Barrier(len(machines))

    def one(machine: str) -> int:
        barrier.wait()
        return invoke(
            "POST",
            "/license-activations/activate",
            body={"keyToken": key_token, "machineId": machine},
        ).status

    with ThreadPoolExecutor(max_workers=len(machines)) as pool:
        return Counter(pool.map(one, machines))


def live(license_id: str) -> int:
    return sum(
        1 for a in ActivationRecord.query(license_id, consistent_read=True) if a.status == "active"
    )


def test_fifty_racers_never_take_more_than_five_seats(five_seat_tier: dict[str, str]) -> None:
    for trial in range(TRIALS):
        license_id, key_token = seeded_license(five_seat_tier["product"], five_seat_tier["tier"])
        statuses = race(key_token, [f"machine-{n}" for n in range(THREADS)])
        assert statuses == Counter({201: SEATS, 409: THREADS - SEATS}), (trial, statuses)
        counter = int(LicenseRecord.get(license_id, consistent_read=True).active_seats)
        assert counter == live(license_id) == SEATS, trial


def test_racing_reactivations_of_one_machine_take_one_seat(five_seat_tier: dict[str, str]) -> None:
    license_id, key_token = seeded_license(five_seat_tier["product"], five_seat_tier["tier"])
    statuses = race(key_token, ["same-machine"] * 10)
    assert statuses[201] == 1 and set(statuses) <= {200, 201, 409}, statuses
    counter = int(LicenseRecord.get(license_id, consistent_read=True).active_seats)
    assert counter == live(license_id) == 1


@pytest.fixture
def faulty_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """A share of DynamoDB calls fail before reaching the server: transaction
    conflicts, throttling, or an internal error."""
    injected: Counter[str] = Counter()
    original = BaseClient._make_api_call
    rng = random.Random(7)
    lock = threading.Lock()

    def faulty(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            with lock:
                roll = rng.random()
            if roll < 0.25:
                if operation == "TransactWriteItems" and roll < 0.15:
                    code, extra = (
                        "TransactionCanceledException",
                        {
                            "CancellationReasons": [
                                {"Code": "TransactionConflict"} for _ in params["TransactItems"]
                            ]
                        },
                    )
                elif roll < 0.2:
                    code, extra = "ThrottlingException", {}
                else:
                    code, extra = "InternalServerError", {}
                injected[code] += 1
                raise ClientError(
                    {"Error": {"Code": code, "Message": "injected"}, **extra}, operation
                )
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", faulty)
    return injected


def test_injected_faults_never_break_the_limit_nor_answer_500(
    five_seat_tier: dict[str, str], faulty_dynamodb: Counter[str]
) -> None:
    injected_during_races = 0
    for trial in range(5):
        license_id, key_token = "", ""
        while not license_id:  # setting up may meet a fault too
            try:
                license_id, key_token = seeded_license(
                    five_seat_tier["product"], five_seat_tier["tier"]
                )
            except Exception:  # noqa: S112
                continue
        statuses = race(key_token, [f"machine-{n}" for n in range(THREADS)])
        assert set(statuses) <= {201, 409, 503}, statuses
        assert statuses[201] <= SEATS
        injected_during_races += sum(faulty_dynamodb.values())
        faulty_dynamodb.clear()
        counter = None
        while counter is None:
            try:
                counter = int(LicenseRecord.get(license_id, consistent_read=True).active_seats)
                alive = live(license_id)
            except Exception:
                counter = None
        # no seat taken without a token returned, and no token without the seat stored
        assert counter == alive == statuses[201], (trial, statuses)
    assert injected_during_races > 20  # the faults really were there


def test_racing_tenant_creations_never_exceed_max_tenants(five_seat_tier: dict[str, str]) -> None:
    """Eight tenants at once on a license whose tier serves 2 (the same moto server as the
    seat races: moto in-process is not atomic across threads)."""
    tier = catalog.create_tier(
        five_seat_tier["product"],
        schemas.TierCreate(
            code=f"msp{random.getrandbits(24)}",
            name="MSP",
            monthly_price=0,
            annual_price=0,
            currency="EUR",
            billing_periods=["monthly"],
            max_users=1,
            max_tenants=2,
        ),
    )
    license_id, _ = seeded_license(five_seat_tier["product"], tier.tier_id)
    barrier = threading.Barrier(8)

    def one(n: int) -> str:
        barrier.wait()
        try:
            identities.create_tenant(
                schemas.TenantCreate(name=f"t{n}", license_id=license_id), "test"
            )
        except DomainError as error:
            return error.code
        return "created"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(one, range(8)))
    assert outcomes["created"] == 2 and set(outcomes) <= {"created", "TENANT_LIMIT_REACHED"}, (
        outcomes
    )
    served = [t for t in TenantRecord.scan() if t.license_id == license_id]
    assert len(served) == 2
    assert LicenseRecord.get(license_id).tenants_served == 2
