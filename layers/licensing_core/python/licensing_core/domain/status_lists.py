"""Status lists (IETF Token Status List, draft-ietf-oauth-status-list): one bit per
machine file, 1 when the file may no longer be used.

A list holds :data:`LIST_CAPACITY` entries, stored as :data:`CHUNK_COUNT` fixed-size
chunks of :data:`CHUNK_BITS` bits, so flipping a bit rewrites one small chunk and
serving a list reads a bounded number of chunks. Entries are numbered by one counter
across lists: entry ``n`` is index ``n % LIST_CAPACITY`` of list ``n // LIST_CAPACITY``.
Bits are ordered as the draft says: index 0 is the least significant bit of byte 0.

Pure functions over bytes: the store keeps the chunks, the service signs the list.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: The media type (``typ``) of a status list token.
STATUS_LIST_TYPE = "statuslist+jwt"
#: One status bit per entry: 0 valid, 1 invalid (revoked, suspended or returned).
BITS = 1
CHUNK_BITS = 8192  #: 1 KiB per chunk: a flip rewrites 1 KiB.
CHUNK_COUNT = 128
LIST_CAPACITY = CHUNK_BITS * CHUNK_COUNT  #: 1,048,576 entries per list
CHUNK_BYTES = CHUNK_BITS // 8
#: A signed list is valid this long after its ``iat`` (a replayed old list is refused
#: past it), and clients should fetch a fresh one after ``ttl`` seconds.
VALID_SECONDS = 86_400
TTL_SECONDS = 60
#: zlib's level. The draft recommends the highest; on a million sparse bits (1% set at
#: random) level 9 saves 13% of the bytes for about 19 times the CPU of a signing (half a
#: second: bench/RESULTS.md, "Status lists"), so zlib's default, 6.
COMPRESSION_LEVEL = 6
#: ``iat`` is a multiple of this, so unchanged bits sign to the same token (and ETag)
#: within one window: RS256 signatures are deterministic.
WINDOW_SECONDS = 300


@dataclass(frozen=True)
class Entry:
    """Where one file's status bit is."""

    list_id: str
    index: int


def entry(number: int) -> Entry:
    """The list and index of the ``number``-th entry ever allocated (from 0)."""
    if number < 0:
        raise ValueError("entry numbers start at 0")
    return Entry(str(number // LIST_CAPACITY), number % LIST_CAPACITY)


def is_list_id(value: str) -> bool:
    """Whether ``value`` names a list: a decimal number without leading zeros."""
    return value.isascii() and value.isdigit() and (value == "0" or not value.startswith("0"))


def with_bits(chunk: bytes | None, changes: Mapping[int, bool]) -> bytes:
    """``chunk`` (None: all zero) with the bits at these offsets set (True) or cleared."""
    data = bytearray(chunk or bytes(CHUNK_BYTES))
    if len(data) != CHUNK_BYTES:
        raise ValueError(f"a chunk holds {CHUNK_BYTES} bytes, not {len(data)}")
    for offset, revoked in changes.items():
        mask = 1 << (offset % 8)
        if revoked:
            data[offset // 8] |= mask
        else:
            data[offset // 8] &= ~mask & 0xFF
    return bytes(data)


def bit(data: bytes, index: int) -> bool:
    """The status bit at ``index`` of a whole list or chunk."""
    return bool(data[index // 8] >> (index % 8) & 1)


def assemble(chunks: Mapping[int, bytes]) -> bytes:
    """The whole list's bytes from its stored chunks (missing chunks are all zero)."""
    return b"".join(chunks.get(number) or bytes(CHUNK_BYTES) for number in range(CHUNK_COUNT))


def encoded(data: bytes, level: int | None = None) -> str:
    """``lst``: the bytes ZLIB-compressed, base64url without padding."""
    packed = zlib.compress(data, COMPRESSION_LEVEL if level is None else level)
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def window_start(now: int) -> int:
    """The ``iat`` of a list signed at ``now``."""
    return now - now % WINDOW_SECONDS


def list_claims(uri: str, data: bytes, *, issuer: str, iat: int) -> dict[str, Any]:
    """The claims of a status list token."""
    return {
        "iss": issuer,
        "sub": uri,
        "iat": iat,
        "exp": iat + VALID_SECONDS,
        "ttl": TTL_SECONDS,
        "status_list": {"bits": BITS, "lst": encoded(data)},
    }


def reference(uri: str, index: int) -> dict[str, Any]:
    """The ``status`` claim of a token whose status is at ``index`` of the list ``uri``."""
    return {"status_list": {"idx": index, "uri": uri}}


def by_chunk(changes: Iterable[tuple[int, bool]]) -> dict[int, dict[int, bool]]:
    """Index -> bit changes grouped by chunk (chunk -> offset -> bit): one write each."""
    grouped: dict[int, dict[int, bool]] = {}
    for index, revoked in changes:
        grouped.setdefault(index // CHUNK_BITS, {})[index % CHUNK_BITS] = revoked
    return grouped
