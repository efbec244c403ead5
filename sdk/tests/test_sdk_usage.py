"""Usage reports: one idempotency key for every attempt of a call, quota refusals apart
from rate limits, license refusals handled as a heartbeat's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from licensing_client import (
    ConfigurationError,
    IdempotencyKeyReused,
    LicensingClient,
    NetworkError,
    QuotaExceeded,
    RetryPolicy,
    UsageRefused,
    UsageResult,
)
from sdk_fakes import FakeServer


class Waits(list[float]):
    """Records the waits between attempts instead of sleeping (the upper bound of the
    jitter range is chosen, so the figures are exact)."""

    def policy(self, **options: Any) -> RetryPolicy:
        return RetryPolicy(sleep=self.append, jitter=lambda low, high: high, **options)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def client(
    make_client: Callable[..., LicensingClient], key_token: str, waits: Waits
) -> LicensingClient:
    client = make_client(retry=waits.policy())
    client.activate(key_token)
    return client


def keys(server: FakeServer) -> list[str]:
    return [body["idempotencyKey"] for body in server.sent("/usage")]


def test_a_report_counts_and_answers_the_meter(client: LicensingClient, server: FakeServer) -> None:
    result = client.report_usage("api_calls", 2)
    assert isinstance(result, UsageResult)
    assert (result.meter, result.used, result.limit, result.remaining) == ("api_calls", 2, 5, 3)
    assert result.period_ends_at == datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert result.replayed is False
    [body] = server.sent("/usage")
    assert body == {
        "clientId": client.activation.client_id if client.activation else None,
        "meter": "api_calls",
        "quantity": 2,
        "idempotencyKey": result.idempotency_key,
    }
    assert uuid.UUID(result.idempotency_key).version == 4
    assert client.report_usage("api_calls", 1).idempotency_key != result.idempotency_key
    assert server.used == {"api_calls": 3}


def test_retries_reuse_the_key_and_count_once(
    client: LicensingClient, server: FakeServer, waits: Waits
) -> None:
    server.usage_script = ["network", (503, "SERVICE_UNAVAILABLE"), "drop"]
    result = client.report_usage("api_calls", 2)
    assert len(set(keys(server))) == 1 and len(keys(server)) == 4
    assert result.idempotency_key == keys(server)[0]
    assert result.replayed  # the third attempt was counted, its answer lost
    assert (result.used, result.remaining) == (2, 3)
    assert server.used == {"api_calls": 2}
    assert waits == [0.5, 7.0, 2.0]  # doubling, never sooner than Retry-After: 7


def test_a_request_in_progress_is_retried_with_the_same_key(
    client: LicensingClient, server: FakeServer, waits: Waits
) -> None:
    server.usage_script = [(409, "REQUEST_IN_PROGRESS")]
    result = client.report_usage("api_calls", 1, idempotency_key="report-42")
    assert keys(server) == ["report-42", "report-42"]
    assert result.idempotency_key == "report-42" and not result.replayed
    again = client.report_usage("api_calls", 1, idempotency_key="report-42")
    assert again.replayed and again.used == 1
    assert server.used == {"api_calls": 1}


def test_attempts_are_bounded(client: LicensingClient, server: FakeServer, waits: Waits) -> None:
    server.usage_script = ["network"] * 10
    with pytest.raises(NetworkError):
        client.report_usage("api_calls", 1)
    assert len(keys(server)) == 4 and len(set(keys(server))) == 1
    assert waits == [0.5, 1.0, 2.0]
    assert server.used == {}


def test_the_quota_is_a_final_refusal_not_a_rate_limit(
    client: LicensingClient, server: FakeServer, waits: Waits
) -> None:
    client.report_usage("api_calls", 4)
    with pytest.raises(QuotaExceeded) as caught:
        client.report_usage("api_calls", 2)
    refusal = caught.value
    assert isinstance(refusal, UsageRefused) and not isinstance(refusal, NetworkError)
    assert (refusal.code, refusal.status) == ("QUOTA_EXCEEDED", 429)
    assert (refusal.meter, refusal.used, refusal.limit, refusal.remaining) == ("api_calls", 4, 5, 1)
    assert len(keys(server)) == 2 and waits == []  # never retried
    assert client.report_usage("api_calls", 1).remaining == 0
    with pytest.raises(QuotaExceeded) as caught:
        client.report_usage("api_calls", 1)
    assert caught.value.remaining == 0
    assert client.has("sso")  # over quota is not unlicensed


def test_a_rate_limit_is_retried_but_a_quota_with_retry_after_is_not(
    client: LicensingClient, server: FakeServer, waits: Waits
) -> None:
    server.usage_script = [(429, "TOO_MANY_REQUESTS"), (429, "HTTP_429")]
    assert client.report_usage("api_calls", 1).used == 1
    assert waits == [7.0, 7.0] and len(set(keys(server))) == 1
    server.usage_script = [(429, "QUOTA_EXCEEDED")]
    with pytest.raises(QuotaExceeded):
        client.report_usage("api_calls", 1)
    assert waits == [7.0, 7.0]


def test_a_key_reused_for_another_report_is_refused(
    client: LicensingClient, server: FakeServer, waits: Waits
) -> None:
    client.report_usage("api_calls", 1, idempotency_key="once")
    with pytest.raises(IdempotencyKeyReused) as caught:
        client.report_usage("api_calls", 2, idempotency_key="once")
    assert caught.value.status == 422 and waits == []
    assert server.used == {"api_calls": 1}


@pytest.mark.parametrize(("status", "code"), [(422, "UNKNOWN_METER"), (400, "VALIDATION_FAILED")])
def test_other_refusals_are_final_and_keep_the_license(
    client: LicensingClient, server: FakeServer, waits: Waits, status: int, code: str
) -> None:
    server.usage_script = [(status, code)]
    with pytest.raises(UsageRefused) as caught:
        client.report_usage("api_calls", 1)
    assert type(caught.value) is UsageRefused and caught.value.code == code
    assert waits == [] and client.has("sso") and client.activation is not None


def test_a_revoked_license_is_dropped_as_by_a_heartbeat(
    client: LicensingClient, server: FakeServer
) -> None:
    held = client.license
    server.usage_script = [(403, "REVOKED")]
    with pytest.raises(UsageRefused) as caught:
        client.report_usage("api_calls", 1)
    assert caught.value.code == "REVOKED"
    assert not client.has("sso") and held is not None and not held.has("sso")
    assert client.activation is None and client.resume() is None
    with pytest.raises(ConfigurationError) as not_activated:
        client.report_usage("api_calls", 1)
    assert not_activated.value.code == "NOT_ACTIVATED"
    assert server.count("/usage") == 1


def test_a_reclaimed_activation_is_reactivated_and_the_report_sent_again(
    client: LicensingClient, server: FakeServer, waits: Waits
) -> None:
    first = client.activation
    assert first is not None
    server.activations.clear()  # the server reclaimed the seat
    result = client.report_usage("api_calls", 1)
    sent = server.sent("/usage")
    assert client.activation is not None and client.activation.client_id != first.client_id
    assert [body["clientId"] for body in sent] == [first.client_id, client.activation.client_id]
    assert sent[0]["idempotencyKey"] == sent[1]["idempotencyKey"] == result.idempotency_key
    assert server.count("/license-activations/activate") == 2 and waits == [0.0]


def test_without_reactivation_a_reclaimed_activation_ends_the_license(
    make_client: Callable[..., LicensingClient], key_token: str, server: FakeServer
) -> None:
    client = make_client(reactivate=False)
    client.activate(key_token)
    server.activations.clear()
    with pytest.raises(UsageRefused) as caught:
        client.report_usage("api_calls", 1)
    assert caught.value.code == "UNKNOWN_CLIENT"
    assert client.license is None and server.count("/usage") == 1


def test_an_answer_that_is_not_a_usage_result_is_invalid(
    client: LicensingClient, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = server._json

    def wrong(status: int, body: Any, headers: Any) -> Any:
        if "used" in body:
            body = {**body, "used": True}  # a boolean is not a count
        return answer(status, body, headers)

    monkeypatch.setattr(server, "_json", wrong)
    with pytest.raises(NetworkError) as caught:
        client.report_usage("api_calls", 1)
    assert caught.value.code == "INVALID_RESPONSE"


def test_no_activation_no_request(
    make_client: Callable[..., LicensingClient], server: FakeServer
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make_client().report_usage("api_calls", 1)
    assert caught.value.code == "NOT_ACTIVATED" and server.count("/usage") == 0


def test_the_async_variant_retries_with_the_same_key(
    make_client: Callable[..., LicensingClient], key_token: str, server: FakeServer
) -> None:
    client = make_client(retry=RetryPolicy(initial=0, maximum=0))
    client.activate(key_token)
    server.usage_script = ["network", (502, "HTTP_502"), "drop"]
    result = asyncio.run(client.report_usage_async("api_calls", 3))
    assert result.replayed and result.used == 3
    assert len(keys(server)) == 4 and set(keys(server)) == {result.idempotency_key}
    server.usage_script = []
    with pytest.raises(QuotaExceeded):
        asyncio.run(client.report_usage_async("api_calls", 3))
    assert server.used == {"api_calls": 3}


def test_the_license_names_its_meters(client: LicensingClient) -> None:
    assert client.license is not None and client.license.meters == {"api_calls"}
