"""Repository functions of status lists: entries allocated by one atomic counter, bits in
fixed-size chunks (``domain/status_lists.py``).

Flipping bits rewrites one chunk (1 KiB) conditionally on its version, with the list's
head version raised in the same transaction; serving a list is one query of at most
``CHUNK_COUNT + 1`` items, revalidating it (ETag) one read of the head.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from licensing_core.domain import status_lists as rules
from licensing_core.domain.errors import ConcurrentChange, Unavailable
from licensing_core.store.errors import storage_errors
from licensing_core.store.models import StatusChunk, StatusCounter
from licensing_core.store.transaction import Transaction

COUNTER_KEY = ("counter", 0)
#: Concurrent flips of one chunk are retried this many times, each on a fresh read.
FLIP_ATTEMPTS = 8


def allocate() -> int:
    """A new entry number, never handed out before (one atomic ``ADD``)."""
    counter = StatusCounter(*COUNTER_KEY)
    with storage_errors():
        counter.update(actions=[StatusCounter.allocated.add(1)])
    return int(counter.allocated) - 1


def allocated() -> int:
    """How many entries were allocated so far (every list below it exists)."""
    with storage_errors():
        try:
            return int(StatusCounter.get(*COUNTER_KEY).allocated)
        except StatusCounter.DoesNotExist:
            return 0


@dataclass(frozen=True)
class StoredList:
    """A list as stored: its version (raised by every change) and its chunks' bits."""

    version: int
    chunks: Mapping[int, bytes]


def read(list_id: str) -> StoredList:
    """The whole list: one query of its head and chunks."""
    version, chunks = 0, {}
    with storage_errors():
        for item in StatusChunk.query(list_id):
            if item.chunk == StatusChunk.HEAD:
                version = int(item.version)
            elif item.bits is not None:
                chunks[int(item.chunk)] = bytes(item.bits)
    return StoredList(version, chunks)


def version(list_id: str) -> int | None:
    """The list's version alone (one small read): what an ETag check needs; None while
    no bit of the list was ever set."""
    with storage_errors():
        try:
            return int(StatusChunk.get(list_id, StatusChunk.HEAD).version)
        except StatusChunk.DoesNotExist:
            return None


def set_bits(list_id: str, changes: Mapping[int, bool]) -> int:
    """Set (True) or clear the bits at these indexes; how many bits changed. Each chunk
    is one conditional write, retried on a fresh read when another flip won the race."""
    changed = 0
    for number, bits in rules.by_chunk(changes.items()).items():
        changed += _set_chunk_bits(list_id, number, bits)
    return changed


def _set_chunk_bits(list_id: str, number: int, bits: Mapping[int, bool]) -> int:
    for _ in range(FLIP_ATTEMPTS):
        with storage_errors():
            try:
                current: StatusChunk | None = StatusChunk.get(list_id, number, consistent_read=True)
            except StatusChunk.DoesNotExist:
                current = None
        before = bytes(current.bits) if current is not None and current.bits else None
        after = rules.with_bits(before, bits)
        if after == (before or bytes(rules.CHUNK_BYTES)):
            return 0
        seen = int(current.version) if current is not None else None
        transaction = Transaction()
        transaction.save(
            StatusChunk(list_id, number, bits=after, version=(seen or 0) + 1),
            condition=StatusChunk.list_id.does_not_exist()
            if seen is None
            else StatusChunk.version == seen,
        )
        transaction.update(StatusChunk(list_id, StatusChunk.HEAD), [StatusChunk.version.add(1)])
        try:
            transaction.run()
        except ConcurrentChange:
            continue
        before_bits = before or bytes(rules.CHUNK_BYTES)
        return sum(rules.bit(before_bits, o) != revoked for o, revoked in bits.items())
    raise Unavailable("a status list chunk is contended; retry shortly", retryAfterSeconds=1)
