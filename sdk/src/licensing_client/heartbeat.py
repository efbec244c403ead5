"""Keeping the machine token alive: a background thread, or an asyncio task.

Both run the same :class:`HeartbeatSchedule`: renew at the server's
``nextHeartbeatAt``; on a network error, a 5xx or a 429, retry with jittered exponential
backoff (at least the server's ``Retry-After``) and keep the license usable while the
token is unexpired and the grace period (if any) has not run out; then drop it and call
``on_expired`` (renewal attempts go on: a later success calls ``on_renewed``). A refusal
that ends the license (``REVOKED``, ``SUSPENDED``, ``IDENTITY_DEACTIVATED``,
``SUPERSEDED``) drops it at once, calls ``on_revoked`` and ends the loop; ``EXPIRED`` or
a failed re-activation calls ``on_expired`` and ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from licensing_client.client import REVOKING_CODES, LicensingClient
from licensing_client.errors import (
    ConfigurationError,
    LicenseExpired,
    LicensingError,
    NetworkError,
    NotLicensed,
    RequestRefused,
)
from licensing_client.license import License
from licensing_client.retry import Jitter, backoff, full_jitter

log = logging.getLogger("licensing_client")

Callback = Callable[[Any], Any]
Event = tuple[str, Any]  #: (callback name, argument)


class HeartbeatSchedule:
    """The renewal state machine, free of threads and sleeps (so tests drive it with a
    fake clock): :meth:`step` renews when due and returns how long to wait, plus the
    callbacks to fire."""

    def __init__(
        self,
        client: LicensingClient,
        *,
        grace_period: float | None = None,
        backoff_initial: float = 2.0,
        backoff_max: float = 300.0,
        max_sleep: float = 300.0,
        jitter: Jitter = full_jitter,
    ):
        if grace_period is not None and grace_period < 0:
            raise ValueError("grace_period is a number of seconds >= 0, or None")
        self.client = client
        self.grace_period = grace_period
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_sleep = max_sleep
        self._jitter = jitter
        self._clock = client._clock
        self.failures = 0
        self.first_failure_at: float | None = None
        self.expired = False
        self.finished = False
        record = client.activation
        self.next_at = record.next_heartbeat_at if record is not None else -math.inf

    def renew_now(self) -> None:
        self.next_at = -math.inf

    def step(self) -> tuple[float | None, list[Event]]:
        """Renew if due, check expiry; ``(seconds to wait or None when finished, events)``."""
        events: list[Event] = []
        if self.finished:
            return None, events
        now = self._clock()
        if now >= self.next_at:
            self._renew(now, events)
            if self.finished:
                return None, events
            now = self._clock()
        self._check_expiry(now, events)
        wake_at = self.next_at
        held = self.client.license
        if held is not None and not self.expired:
            wake_at = min(wake_at, held.expires_at + self.client._leeway + 0.001)
            if self.grace_period is not None and self.first_failure_at is not None:
                wake_at = min(wake_at, self.first_failure_at + self.grace_period + 0.001)
        return max(0.0, min(wake_at - now, self.max_sleep)), events

    def _renew(self, now: float, events: list[Event]) -> None:
        try:
            held = self.client.heartbeat()
        except RequestRefused as refusal:
            if refusal.code in REVOKING_CODES:
                self.finished = True
                events.append(("on_revoked", refusal))
                return
            if self.client.activation is None:  # the refusal ended the activation
                self.finished = True
                events.append(("on_expired", refusal))
                return
            self._failed(now, refusal, None, events)
        except NetworkError as error:
            self._failed(now, error, error.retry_after, events)
        except ConfigurationError as error:
            if error.code not in ("NOT_ACTIVATED", "OFFLINE"):
                self._failed(now, error, None, events)
                return
            self.finished = True  # nothing to renew, or nowhere to renew it
            events.append(("on_error", error))
        except LicensingError as error:  # an invalid token, a tampered clock...
            self._failed(now, error, None, events)
        else:
            self.failures = 0
            self.first_failure_at = None
            self.expired = False
            record = self.client.activation
            self.next_at = record.next_heartbeat_at if record is not None else now + self.max_sleep
            if self.next_at <= now:  # a server asking for an immediate renewal: not a loop
                self.next_at = now + self.backoff_initial
            events.append(("on_renewed", held))

    def _failed(
        self, now: float, error: LicensingError, retry_after: float | None, events: list[Event]
    ) -> None:
        self.failures += 1
        if self.first_failure_at is None:
            self.first_failure_at = now
        delay = backoff(
            self.failures,
            initial=self.backoff_initial,
            maximum=self.backoff_max,
            retry_after=retry_after,
            jitter=self._jitter,
        )
        self.next_at = now + delay
        log.warning(
            "license renewal failed (%s), attempt %d; next in %.0fs",
            error.code,
            self.failures,
            delay,
        )
        events.append(("on_error", error))

    def _check_expiry(self, now: float, events: list[Event]) -> None:
        if self.expired:
            return
        held = self.client.license
        reason: NotLicensed | None = None
        if held is None:
            if self.client.activation is None or self.failures == 0:
                return
            reason = LicenseExpired("the license was dropped while renewals failed")
        elif now > held.expires_at + self.client._leeway:
            reason = LicenseExpired("the machine token expired before it could be renewed")
        elif (
            self.grace_period is not None
            and self.first_failure_at is not None
            and now - self.first_failure_at > self.grace_period
        ):
            reason = LicenseExpired(
                f"renewals have failed for longer than the {self.grace_period:.0f}s grace period",
                code="GRACE_PERIOD_ENDED",
            )
        if reason is not None:
            self.expired = True
            self.client.expire(reason)
            events.append(("on_expired", reason))


class _Callbacks:
    def __init__(
        self,
        on_renewed: Callable[[License], Any] | None,
        on_revoked: Callable[[RequestRefused], Any] | None,
        on_expired: Callable[[LicensingError], Any] | None,
        on_error: Callable[[LicensingError], Any] | None,
    ):
        self.by_name: dict[str, Callback | None] = {
            "on_renewed": on_renewed,
            "on_revoked": on_revoked,
            "on_expired": on_expired,
            "on_error": on_error,
        }

    def call(self, name: str, argument: Any) -> Any:
        callback = self.by_name.get(name)
        if callback is None:
            return None
        try:
            return callback(argument)
        except Exception:
            log.exception("the %s callback failed", name)
            return None


class HeartbeatLoop:
    """Renew in a daemon thread. Use as a context manager, or ``start()``/``stop()``.

    ``on_renewed(license)``, ``on_revoked(refusal)``, ``on_expired(error)`` and
    ``on_error(error)`` (each failed attempt) run in the loop's thread; an exception in
    a callback is logged, never fatal. ``grace_period`` (seconds, default ``None`` =
    until the token expires) bounds how long the license stays usable while renewals
    fail; it never extends the token's own lifetime.
    """

    def __init__(
        self,
        client: LicensingClient,
        *,
        on_renewed: Callable[[License], Any] | None = None,
        on_revoked: Callable[[RequestRefused], Any] | None = None,
        on_expired: Callable[[LicensingError], Any] | None = None,
        on_error: Callable[[LicensingError], Any] | None = None,
        **schedule_options: Any,
    ):
        self.schedule = HeartbeatSchedule(client, **schedule_options)
        self._callbacks = _Callbacks(on_renewed, on_revoked, on_expired, on_error)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> HeartbeatLoop:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="licensing-heartbeat", daemon=True
            )
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopping.is_set():
            delay, events = self.schedule.step()
            for name, argument in events:
                self._callbacks.call(name, argument)
            if delay is None:
                return
            self._wake.wait(delay)
            self._wake.clear()

    def renew_now(self) -> None:
        """Renew at once (e.g. after the network came back)."""
        self.schedule.renew_now()
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop the loop and wait for its thread (an in-flight request finishes first)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def __enter__(self) -> HeartbeatLoop:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class AsyncHeartbeats:
    """The asyncio variant: the HTTP call runs in a worker thread, callbacks (plain or
    ``async``) run on the event loop. ``async with client.heartbeats_async(...):`` or
    ``await hb.start()`` / ``await hb.stop()``."""

    def __init__(
        self,
        client: LicensingClient,
        *,
        on_renewed: Callable[[License], Any] | None = None,
        on_revoked: Callable[[RequestRefused], Any] | None = None,
        on_expired: Callable[[LicensingError], Any] | None = None,
        on_error: Callable[[LicensingError], Any] | None = None,
        **schedule_options: Any,
    ):
        self.schedule = HeartbeatSchedule(client, **schedule_options)
        self._callbacks = _Callbacks(on_renewed, on_revoked, on_expired, on_error)
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Run until stopped or finished (revoked/expired for good)."""
        self._wake = self._wake or asyncio.Event()
        while not self._stopping:
            delay, events = await asyncio.to_thread(self.schedule.step)
            for name, argument in events:
                result = self._callbacks.call(name, argument)
                if inspect.isawaitable(result):
                    try:
                        await _awaited(result)
                    except Exception:
                        log.exception("the %s callback failed", name)
            if delay is None or self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()

    async def start(self) -> AsyncHeartbeats:
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self.run(), name="licensing-heartbeat")
        return self

    def renew_now(self) -> None:
        self.schedule.renew_now()
        if self._wake is not None:
            self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            await self._task

    async def __aenter__(self) -> AsyncHeartbeats:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def _awaited(result: Awaitable[Any]) -> Any:
    return await result
