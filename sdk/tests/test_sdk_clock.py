"""Clock-tamper detection with an injected clock: the trusted time survives restarts, a
clock set back is refused, the server's Date re-anchors."""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from pathlib import Path

import pytest
from licensing_client import ClockGuard, ClockTampered, LicensingClient
from licensing_client.storage import Storage
from sdk_fakes import T0, FakeClock, FakeServer, Issuer, license_claims


def test_the_guard_refuses_a_clock_set_back_beyond_the_tolerance(tmp_path: Path) -> None:
    clock = FakeClock()
    guard = ClockGuard(clock=clock, tolerance=600, storage=Storage(tmp_path))
    assert guard.check() == T0
    clock.advance(-600)
    guard.check()  # within the tolerance
    clock.advance(-1)
    with pytest.raises(ClockTampered) as caught:
        guard.check()
    assert caught.value.code == "CLOCK_TAMPERED"
    assert "601s behind" in caught.value.detail


def test_the_trusted_time_survives_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    guard = ClockGuard(clock=clock, tolerance=60, storage=Storage(tmp_path), persist_every=30)
    clock.advance(10)
    guard.check()  # progress below persist_every: not written yet
    clock.advance(100)
    guard.check()
    assert ClockGuard(clock=clock, storage=Storage(tmp_path)).trusted == T0 + 110
    guard.flush()
    clock.now = T0  # the user sets the clock back, then restarts the app
    restarted = ClockGuard(clock=clock, tolerance=60, storage=Storage(tmp_path))
    with pytest.raises(ClockTampered):
        restarted.check()


def test_token_iat_is_trusted_time(tmp_path: Path) -> None:
    clock = FakeClock()
    guard = ClockGuard(clock=clock, tolerance=60, storage=Storage(tmp_path))
    guard.observe(T0 + 3600)
    guard.observe("not a time")
    guard.observe(True)
    with pytest.raises(ClockTampered):
        guard.check()


def test_the_server_date_re_anchors_even_downwards(tmp_path: Path) -> None:
    clock = FakeClock(T0 + 86_400)  # the clock once ran a day ahead...
    guard = ClockGuard(clock=clock, tolerance=60, storage=Storage(tmp_path))
    guard.check()
    clock.now = T0  # ...and was corrected: looks like tampering
    with pytest.raises(ClockTampered):
        guard.check()
    guard.anchor(T0 - 1)  # the server says what time it is
    assert guard.check() == T0
    assert ClockGuard(clock=clock, storage=Storage(tmp_path)).trusted == T0 - 1  # as anchored


def test_verification_refuses_a_tampered_clock_and_has_turns_false(
    make_client: Callable[..., LicensingClient],
    clock: FakeClock,
    key_token: str,
    issuer: Issuer,
) -> None:
    client = make_client(clock_tolerance=300)
    held = client.verify_license_key(key_token)
    clock.advance(10_000)
    assert held.has("sso")
    client.verify_license_key(key_token)  # moves the trusted time forward
    clock.advance(-301)
    assert not held.has("sso")
    with pytest.raises(ClockTampered):
        held.require("sso")
    with pytest.raises(ClockTampered):
        client.verify_license_key(key_token)
    # a restart does not forget it
    with pytest.raises(ClockTampered):
        make_client(clock_tolerance=300).verify_license_key(key_token)


def test_a_token_from_the_future_says_the_clock_is_behind(
    make_client: Callable[..., LicensingClient], issuer: Issuer
) -> None:
    client = make_client(clock_tolerance=300)
    future = issuer.sign(license_claims(iat=int(T0) + 3600, nbf=None))
    with pytest.raises(ClockTampered):
        client.verify_license_key(future)


def test_a_stored_machine_token_cannot_be_kept_alive_by_setting_the_clock_back(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    clock: FakeClock,
    key_token: str,
) -> None:
    """Offline for two days: the token expired; setting the clock back is caught."""
    client = make_client(clock_tolerance=900)
    client.activate(key_token)
    server.reachable = False
    clock.advance(172_800 + 3600)
    assert not client.has("sso")
    client.guard.check()  # the app noticed the time while running (e.g. its loop)
    clock.advance(-(172_800 + 3600))
    restarted = make_client(clock_tolerance=900)
    with pytest.raises(ClockTampered):
        restarted.resume()


def test_the_server_date_header_heals_a_wrong_clock_on_renewal(
    make_client: Callable[..., LicensingClient],
    server: FakeServer,
    clock: FakeClock,
    key_token: str,
) -> None:
    client = make_client(clock_tolerance=60)
    client.activate(key_token)
    clock.advance(86_400)
    client.guard.check()
    clock.advance(-86_400 + 10)  # back to the right time (the server agrees)
    with pytest.raises(ClockTampered):
        client.require("sso")
    server.date_header = lambda: email.utils.formatdate(clock(), usegmt=True)
    assert client.heartbeat().has("sso")
    client.require("sso")
