"""Clock-tamper detection.

The guard remembers the latest time it can trust: the ``iat`` of every verified token
and the ``Date`` of the licensing server's answers, plus the local clock's own progress
while the app runs. It persists that time in the data directory. When the local clock
reads earlier than that, by more than the tolerance, the clock was set back (to keep an
expired token alive): verification, activation and ``require()`` raise
:class:`~licensing_client.errors.ClockTampered`, and ``has()`` answers ``False``.

A server ``Date`` is authoritative: it re-anchors the trusted time, even downwards
(which heals a machine whose clock once ran ahead and was corrected).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from licensing_client.errors import ClockTampered
from licensing_client.license import ClockFloor
from licensing_client.storage import Storage

CLOCK_FILE = "clock.json"
DEFAULT_TOLERANCE = 900.0
#: Local progress is written at most this often (seconds of trusted-time advance).
PERSIST_EVERY = 60.0


class ClockGuard:
    def __init__(
        self,
        *,
        clock: Callable[[], float],
        tolerance: float = DEFAULT_TOLERANCE,
        storage: Storage | None = None,
        persist_every: float = PERSIST_EVERY,
    ):
        if tolerance < 0:
            raise ValueError("the clock tolerance is a number of seconds >= 0")
        self._clock = clock
        self.tolerance = tolerance
        self._storage = storage
        self._persist_every = persist_every
        self._lock = threading.Lock()
        #: Shared with every License of the client: ``has()`` reads ``min_time``.
        self.floor = ClockFloor()
        self.trusted = -math.inf
        self._persisted = -math.inf
        if storage is not None:
            saved = storage.read_json(CLOCK_FILE) or {}
            value = saved.get("trusted")
            if isinstance(value, int | float) and not isinstance(value, bool):
                self._set(float(value))
                self._persisted = self.trusted

    def _set(self, trusted: float) -> None:
        self.trusted = trusted
        self.floor.min_time = trusted - self.tolerance

    def _save(self, *, force: bool = False) -> None:
        if self._storage is None:
            return
        if force or abs(self.trusted - self._persisted) >= self._persist_every:
            self._storage.write_json(CLOCK_FILE, {"trusted": self.trusted})
            self._persisted = self.trusted

    def check(self, now: float | None = None) -> float:
        """The local time, after checking it is not behind the trusted time; the local
        clock's progress becomes trusted time (so setting it back later is noticed)."""
        now = self._clock() if now is None else now
        if now < self.floor.min_time:
            raise ClockTampered(
                f"the system clock is {self.trusted - now:.0f}s behind the last trusted time "
                f"(tolerance {self.tolerance:.0f}s): fix the clock, or go online to renew"
            )
        if now > self.trusted:
            with self._lock:
                if now > self.trusted:
                    self._set(now)
                    self._save()
        return now

    def observe(self, trusted: object) -> None:
        """A trusted time (a verified token's ``iat``): moves the trusted time forward."""
        if not isinstance(trusted, int | float) or isinstance(trusted, bool):
            return
        if trusted > self.trusted:
            with self._lock:
                if trusted > self.trusted:
                    self._set(float(trusted))
                    self._save()

    def anchor(self, server_time: float | None) -> None:
        """The server's ``Date``: the trusted time becomes exactly that."""
        if server_time is None or not math.isfinite(server_time):
            return
        with self._lock:
            self._set(server_time)
            self._save(force=True)

    def flush(self) -> None:
        with self._lock:
            if math.isfinite(self.trusted):
                self._save(force=True)
