"""The scheduled job that expires pending claims (``functions/expire_claims``), with an
injected clock: expired claims flip, fulfilled ones never do, a second run (or a
claim fulfilled while the job runs) changes nothing more."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from licensing_core.services import registration
from licensing_core.store import claims as claim_store
from licensing_core.store.models import AuditRecord, LicenseRecord, PendingLicenseClaim

from tests.integration import test_registration as base
from tests.integration.test_registration import Catalog, claim, problem, register, sign_in
from tests.support import load_handler

#: The registration suite's fixtures.
pool, catalog, clock = base.pool, base.catalog, base.clock

Clock = Callable[[timedelta], None]
WEEK = timedelta(days=7)


class Context:
    """A Lambda context with plenty of time left."""

    function_name = "licensing-expire-claims"

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


def run_job() -> dict[str, Any]:
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    report: dict[str, Any] = load_handler("expire_claims").handler(event, Context())
    return report


def statuses() -> dict[str, str]:
    return {record.email: record.status for record in PendingLicenseClaim.scan()}


def test_expired_claims_flip_fulfilled_ones_do_not_and_a_second_run_changes_nothing(
    catalog: Catalog, clock: Clock
) -> None:
    for email in ("late@example.com", "later@example.com", "done@example.com"):
        assert register(email).status == 202
    clock(timedelta(days=1))
    assert register("fresh@example.com").status == 202  # expires a day after the others
    token = sign_in(catalog.pool, "done@example.com")
    assert claim(token).status == 201

    assert run_job() == {"expired": 0, "skipped": 0, "pages": 1, "complete": True}
    clock(WEEK - timedelta(hours=1))  # the first three are past expiry, "fresh" is not
    assert run_job() == {"expired": 2, "skipped": 0, "pages": 1, "complete": True}
    assert statuses() == {
        "late@example.com": "expired",
        "later@example.com": "expired",
        "done@example.com": "fulfilled",
        "fresh@example.com": "pending",
    }
    before = {r.claim_id: r.attribute_values for r in PendingLicenseClaim.scan()}
    assert run_job() == {"expired": 0, "skipped": 0, "pages": 1, "complete": True}
    assert {r.claim_id: r.attribute_values for r in PendingLicenseClaim.scan()} == before

    late = claim_store.get_claim("late@example.com", catalog.product)
    assert late is not None
    actions = [r.action for r in AuditRecord.query(late.claim_id)]
    assert actions == ["claim.created", "claim.expired"]
    assert LicenseRecord.count() == 1


def test_claiming_after_expiry_is_gone_before_and_after_the_job(
    catalog: Catalog, clock: Clock
) -> None:
    register("ada@example.com")
    token = sign_in(catalog.pool, "ada@example.com")
    clock(WEEK + timedelta(seconds=1))
    problem(claim(token), 410, "CLAIM_EXPIRED")
    run_job()
    problem(claim(token), 410, "CLAIM_EXPIRED")
    assert LicenseRecord.count() == 0
    # Registering again opens a new claim, which can be claimed.
    assert register("ada@example.com").status == 202
    assert claim(token).status == 201


def test_a_claim_fulfilled_while_the_job_runs_is_not_expired(
    catalog: Catalog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    register("ada@example.com")
    register("bob@example.com")
    tokens = {email: sign_in(catalog.pool, email) for email in ("ada@example.com",)}
    page = claim_store.pending_past_expiry

    def fulfil_after_the_query(*args: Any, **kwargs: Any) -> Any:
        found = page(*args, **kwargs)
        clock(-WEEK)  # ada claims in time, between the job's query and its writes
        assert claim(tokens["ada@example.com"]).status == 201
        clock(WEEK)
        return found

    clock(WEEK)
    monkeypatch.setattr(claim_store, "pending_past_expiry", fulfil_after_the_query)
    assert run_job() == {"expired": 1, "skipped": 1, "pages": 1, "complete": True}
    assert statuses() == {"ada@example.com": "fulfilled", "bob@example.com": "expired"}


def test_a_claim_registered_again_meanwhile_is_not_expired(
    catalog: Catalog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    register("ada@example.com")
    page = claim_store.pending_past_expiry

    def register_again_after_the_query(*args: Any, **kwargs: Any) -> Any:
        found = page(*args, **kwargs)
        assert register("ada@example.com", "pro").status == 202
        return found

    clock(WEEK)
    monkeypatch.setattr(claim_store, "pending_past_expiry", register_again_after_the_query)
    assert run_job()["skipped"] == 1
    stored = claim_store.get_claim("ada@example.com", catalog.product)
    assert stored is not None and stored.status == "pending" and stored.tier_code == "pro"


def test_the_job_goes_through_every_page(catalog: Catalog, clock: Clock) -> None:
    for n in range(5):
        assert register(f"user{n}@example.com").status == 202
    clock(WEEK)
    report = registration.expire_claims(page_size=2)
    assert (report.expired, report.skipped, report.complete) == (5, 0, True)
    assert report.pages >= 3
    assert set(statuses().values()) == {"expired"}


def test_the_job_stops_when_time_runs_out_and_the_next_run_goes_on(
    catalog: Catalog, clock: Clock
) -> None:
    for n in range(4):
        register(f"user{n}@example.com")
    clock(WEEK)
    first = registration.expire_claims(page_size=2, time_left=lambda: 1.0)
    assert (first.expired, first.pages, first.complete) == (2, 1, False)
    second = registration.expire_claims(page_size=2)
    assert second.expired == 2 and second.complete


def test_claims_carry_a_ttl_long_after_expiry_that_nothing_relies_on(catalog: Catalog) -> None:
    register("ada@example.com")
    stored = claim_store.get_claim("ada@example.com", catalog.product)
    assert stored is not None and stored.delete_after is not None
    assert stored.delete_after - stored.expires_at == timedelta(days=90)
