"""Heartbeats: the schedule driven step by step with a fake clock (backoff, grace period,
expiry, refusals), then the real thread and the asyncio variant."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from licensing_client import (
    ActivationRefused,
    AsyncHeartbeats,
    HeartbeatRefused,
    HeartbeatSchedule,
    LicenseExpired,
    LicenseRevoked,
    LicensingClient,
)
from sdk_fakes import T0, FakeClock, FakeServer

HEARTBEAT = "/license-keys/heartbeat"


def highest(low: float, high: float) -> float:
    return high


@pytest.fixture
def client(make_client: Callable[..., LicensingClient], key_token: str) -> LicensingClient:
    activated = make_client()
    activated.activate(key_token)
    return activated


def schedule(client: LicensingClient, **options: Any) -> HeartbeatSchedule:
    options.setdefault("jitter", highest)
    return HeartbeatSchedule(client, **options)


def names(events: list[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in events]


def test_renews_at_next_heartbeat_at(
    client: LicensingClient, server: FakeServer, clock: FakeClock
) -> None:
    loop = schedule(client, max_sleep=600)
    delay, events = loop.step()
    assert (delay, events) == (600, [])  # due in 3600 s, sleeps are capped
    assert server.count(HEARTBEAT) == 0
    clock.advance(3599)
    assert loop.step()[0] == 1
    clock.advance(1)
    delay, events = loop.step()
    assert names(events) == ["on_renewed"]
    assert events[0][1] is client.license
    assert server.count(HEARTBEAT) == 1
    assert loop.next_at == T0 + 7200
    assert delay == 600
    assert client.activation is not None and client.activation.next_heartbeat_at == T0 + 7200


def test_network_errors_back_off_exponentially_with_jitter(
    client: LicensingClient, server: FakeServer, clock: FakeClock
) -> None:
    jitters: list[tuple[float, float]] = []

    def record(low: float, high: float) -> float:
        jitters.append((low, high))
        return low

    loop = schedule(client, backoff_initial=2, backoff_max=60, jitter=record)
    loop.renew_now()
    server.reachable = False
    for _ in range(7):
        loop.step()
        clock.now = loop.next_at
    assert jitters == [(1, 2), (2, 4), (4, 8), (8, 16), (16, 32), (30, 60), (30, 60)]
    assert client.has("sso")  # the token is still valid: the app keeps working
    server.reachable = True
    _, events = loop.step()
    assert names(events) == ["on_renewed"]
    assert loop.failures == 0


def test_5xx_and_429_are_retried_no_sooner_than_retry_after(
    client: LicensingClient, server: FakeServer, clock: FakeClock
) -> None:
    loop = schedule(client, backoff_initial=1, backoff_max=600)
    loop.renew_now()
    server.heartbeat_script = [503, 429, "network"]
    _, events = loop.step()
    assert names(events) == ["on_error"]
    assert events[0][1].code == "HTTP_503"
    assert loop.next_at == T0 + 7  # Retry-After: 7 beats the 1 s backoff
    clock.now = loop.next_at
    loop.step()
    assert loop.next_at == clock.now + 7
    clock.now = loop.next_at
    loop.step()
    assert loop.next_at == clock.now + 4
    clock.now = loop.next_at
    assert names(loop.step()[1]) == ["on_renewed"]


def test_an_unexpected_refusal_is_retried_not_fatal(
    client: LicensingClient, server: FakeServer
) -> None:
    loop = schedule(client)
    loop.renew_now()
    server.heartbeat_script = ["VALIDATION_FAILED"]
    _, events = loop.step()
    assert names(events) == ["on_error"]
    assert not loop.finished and client.has("sso")


def test_the_token_expiring_during_failures_drops_the_license_until_a_renewal(
    client: LicensingClient, server: FakeServer, clock: FakeClock
) -> None:
    renewed: list[str] = []
    loop = schedule(client, backoff_max=3600)
    held = client.license
    assert held is not None
    server.reachable = False
    clock.advance(3600)
    fired: list[str] = []
    while clock.now < T0 + 172_800 + 30:
        delay, events = loop.step()
        fired += names(events)
        assert delay is not None
        clock.advance(delay)
    delay, events = loop.step()
    fired += names(events)
    assert fired.count("on_expired") == 1
    assert "on_error" in fired
    assert not client.has("sso") and not held.has("sso")
    assert client.license is None
    assert client.activation is not None  # kept: a renewal can bring it back
    server.reachable = True
    clock.now = loop.next_at
    _, events = loop.step()
    renewed += names(events)
    assert renewed == ["on_renewed"]
    assert client.has("sso")


def test_the_expiry_wake_up_is_on_time(
    client: LicensingClient, server: FakeServer, clock: FakeClock
) -> None:
    loop = schedule(client, backoff_max=100_000, max_sleep=100_000)
    loop.renew_now()
    server.reachable = False
    loop.step()  # fails: next attempt in 2 s
    clock.now = loop.next_at
    server.heartbeat_script = []
    loop.backoff_initial = 10**6
    delay, _ = loop.step()
    assert delay is not None
    assert clock.now + delay <= T0 + 172_800 + 30 + 1  # wakes to notice the expiry


def test_the_grace_period_bounds_offline_use_while_the_token_is_valid(
    client: LicensingClient, server: FakeServer, clock: FakeClock
) -> None:
    loop = schedule(client, grace_period=600, backoff_initial=60, backoff_max=60)
    loop.renew_now()
    server.reachable = False
    fired: list[tuple[str, Any]] = []
    while not any(name == "on_expired" for name, _ in fired):
        delay, events = loop.step()
        fired += events
        assert delay is not None
        clock.advance(delay)
        assert clock.now < T0 + 700
    expiry = next(arg for name, arg in fired if name == "on_expired")
    assert isinstance(expiry, LicenseExpired)
    assert expiry.code == "GRACE_PERIOD_ENDED"
    assert not client.has("sso")
    assert clock.now < T0 + 172_800  # long before the token itself expires


def test_without_grace_period_the_token_lifetime_is_the_limit(
    client: LicensingClient, server: FakeServer, clock: FakeClock
) -> None:
    loop = schedule(client, backoff_initial=60, backoff_max=60)
    loop.renew_now()
    server.reachable = False
    for _ in range(100):
        delay, events = loop.step()
        assert "on_expired" not in names(events)
        assert delay is not None
        clock.advance(delay)
    assert client.has("sso")


@pytest.mark.parametrize("code", ["REVOKED", "SUSPENDED", "IDENTITY_DEACTIVATED", "SUPERSEDED"])
def test_a_revoking_refusal_drops_the_license_and_ends_the_loop(
    client: LicensingClient, server: FakeServer, tmp_path: Path, code: str
) -> None:
    held = client.license
    assert held is not None and held.has("sso")
    loop = schedule(client)
    loop.renew_now()
    server.heartbeat_script = [code]
    delay, events = loop.step()
    assert delay is None and loop.finished
    assert names(events) == ["on_revoked"]
    refusal = events[0][1]
    assert isinstance(refusal, HeartbeatRefused) and refusal.code == code
    assert not client.has("sso") and not held.has("sso")
    for _ in range(2):  # the same reason every time, from the License and the client
        with pytest.raises(LicenseRevoked) as caught:
            held.require("sso")
        assert caught.value.code == code
        with pytest.raises(LicenseRevoked) as caught:
            client.require("sso")
        assert caught.value.code == code
    assert client.activation is None
    assert not (tmp_path / "app" / "activation.Rdn.Identity.json").exists()
    assert loop.step() == (None, [])


def test_a_license_that_expired_on_the_server_ends_the_loop(
    client: LicensingClient, server: FakeServer
) -> None:
    loop = schedule(client)
    loop.renew_now()
    server.heartbeat_script = ["EXPIRED"]
    delay, events = loop.step()
    assert delay is None
    assert names(events) == ["on_expired"]
    assert not client.has("sso")


@pytest.mark.parametrize("code", ["UNKNOWN_CLIENT", "ACTIVATION_DEAD"])
def test_a_lost_activation_is_reactivated_with_the_stored_key(
    client: LicensingClient, server: FakeServer, code: str
) -> None:
    before = client.activation
    assert before is not None
    loop = schedule(client)
    loop.renew_now()
    server.heartbeat_script = [code]
    _, events = loop.step()
    assert names(events) == ["on_renewed"]
    after = client.activation
    assert after is not None and after.client_id != before.client_id
    assert client.has("sso")


def test_a_failed_reactivation_ends_the_loop(client: LicensingClient, server: FakeServer) -> None:
    loop = schedule(client)
    loop.renew_now()
    server.heartbeat_script = ["ACTIVATION_DEAD"]
    server.activation_refusal = "SEAT_LIMIT_REACHED"
    delay, events = loop.step()
    assert delay is None
    assert names(events) == ["on_expired"]
    assert isinstance(events[0][1], ActivationRefused)
    assert not client.has("sso")


def test_without_reactivation_a_lost_activation_ends_the_loop(
    make_client: Callable[..., LicensingClient], server: FakeServer, key_token: str
) -> None:
    client = make_client(reactivate=False)
    client.activate(key_token)
    loop = schedule(client)
    loop.renew_now()
    server.heartbeat_script = ["UNKNOWN_CLIENT"]
    delay, events = loop.step()
    assert delay is None and names(events) == ["on_expired"]
    assert not client.has("sso")


def test_a_loop_without_activation_stops(make_client: Callable[..., LicensingClient]) -> None:
    loop = schedule(make_client())
    delay, events = loop.step()
    assert delay is None
    assert names(events) == ["on_error"]
    assert events[0][1].code == "NOT_ACTIVATED"


def test_manual_heartbeat_refusal_drops_too(client: LicensingClient, server: FakeServer) -> None:
    server.heartbeat_script = ["REVOKED"]
    with pytest.raises(HeartbeatRefused):
        client.heartbeat()
    assert not client.has("sso")


# -- the thread and the asyncio task ---------------------------------------------------


def test_the_thread_renews_calls_back_and_stops_cleanly(
    client: LicensingClient, server: FakeServer
) -> None:
    renewed = threading.Event()
    revoked = threading.Event()
    seen: list[str] = []

    def on_renewed(license_: Any) -> None:
        seen.append("renewed")
        renewed.set()
        raise RuntimeError("a broken callback is logged, not fatal")

    with client.start_heartbeats(
        on_renewed=on_renewed, on_revoked=lambda e: (seen.append(e.code), revoked.set())
    ) as loop:
        assert loop.running
        loop.renew_now()
        assert renewed.wait(10)
        server.heartbeat_script = ["REVOKED"]
        loop.renew_now()
        assert revoked.wait(10)
    assert not loop.running
    assert seen == ["renewed", "REVOKED"]
    assert not client.has("sso")


def test_stop_interrupts_a_long_sleep(client: LicensingClient) -> None:
    loop = client.start_heartbeats(max_sleep=3600)
    loop.stop(timeout=5)
    assert not loop.running


def test_the_asyncio_variant(client: LicensingClient, server: FakeServer) -> None:
    async def main() -> list[str]:
        seen: list[str] = []
        done = asyncio.Event()

        async def on_renewed(license_: Any) -> None:
            seen.append("renewed")
            done.set()

        def on_revoked(error: Any) -> None:
            seen.append(error.code)
            done.set()

        heartbeats: AsyncHeartbeats = client.heartbeats_async(
            on_renewed=on_renewed, on_revoked=on_revoked
        )
        async with heartbeats:
            assert heartbeats.running
            heartbeats.renew_now()
            await asyncio.wait_for(done.wait(), 10)
            done.clear()
            server.heartbeat_script = ["SUSPENDED"]
            heartbeats.renew_now()
            await asyncio.wait_for(done.wait(), 10)
        assert not heartbeats.running
        return seen

    assert asyncio.run(main()) == ["renewed", "SUSPENDED"]
    assert not client.has("sso")
