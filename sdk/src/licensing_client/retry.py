"""Bounded, jittered exponential backoff: heartbeats and usage reports wait the same way."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

Jitter = Callable[[float, float], float]

_system_random = random.SystemRandom()


def full_jitter(low: float, high: float) -> float:
    return _system_random.uniform(low, high)


def backoff(
    failures: int,
    *,
    initial: float,
    maximum: float,
    retry_after: float | None = None,
    jitter: Jitter = full_jitter,
) -> float:
    """Seconds to wait after ``failures`` failures in a row: a random point of the upper
    half of ``initial * 2**(failures - 1)`` (at most ``maximum``), and never less than the
    server's ``Retry-After`` (itself capped at ``maximum``)."""
    ceiling = min(maximum, initial * 2 ** min(failures - 1, 30))
    delay = jitter(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, maximum))
    return delay


@dataclass(frozen=True)
class RetryPolicy:
    """How a call that is safe to repeat (a usage report: one idempotency key for all its
    attempts) is retried: ``attempts`` in all, ``initial`` seconds doubling up to
    ``maximum`` between them. ``sleep`` waits in the synchronous API (the asyncio one
    awaits ``asyncio.sleep``)."""

    attempts: int = 4
    initial: float = 0.5
    maximum: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Jitter = full_jitter

    def __post_init__(self) -> None:
        if self.attempts < 1 or not 0 <= self.initial <= self.maximum:
            raise ValueError("attempts >= 1 and 0 <= initial <= maximum")

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        return backoff(
            failures,
            initial=self.initial,
            maximum=self.maximum,
            retry_after=retry_after,
            jitter=self.jitter,
        )
