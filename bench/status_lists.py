"""Status lists at a million machine files: how large a signed list is, and what serving,
revalidating, flipping and verifying one costs.

One list holds 1,048,576 entries; here 1,000,000 are allocated and 1% of them revoked
(at random, and as whole runs of adjacent entries, as a license's files are allocated
together), next to an empty list and a half-revoked one (random bits do not compress: the
worst case). The bits are written through the store (``store/status_lists.py``: chunk
conditional writes) into in-process moto, then served through the route's handler
(``GET /status-lists/0``) and verified by the SDK.

    python -m bench.status_lists             # rewrites its section of RESULTS.md
    python -m bench.status_lists --no-write  # prints it
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.support import ISSUER, api_event, isolated_environment, load_handler, median

SECTION = "## Status lists"
ENTRIES = 1_000_000
REVOKED = 0.01
#: DynamoDB read and write units: 4 KiB per strongly consistent read unit (half that
#: per eventually consistent one), 1 KiB per write unit, transactional items twice.
READ_UNIT, WRITE_UNIT = 4096, 1024


@dataclass(frozen=True)
class Case:
    name: str
    revoked: int
    jwt_bytes: int
    lst_bytes: int


@dataclass(frozen=True)
class Figures:
    cases: list[Case]
    items_read: int
    bytes_read: int
    serve_ms: float
    revalidate_ms: float
    cached_ms: float
    flip_ms: float
    verify_ms: float
    sign_ms: float
    ours_ms: float
    ours_bytes: float
    highest_ms: float
    highest_bytes: float
    iterations: int


def _indexes(kind: str, rng: random.Random) -> set[int]:
    count = int(ENTRIES * REVOKED)
    if kind == "1% random":
        return set(rng.sample(range(ENTRIES), count))
    if kind == "1% in runs of 50":
        starts = rng.sample(range(ENTRIES // 50), count // 50)
        return {start * 50 + offset for start in starts for offset in range(50)}
    if kind == "50% random":
        return set(rng.sample(range(ENTRIES), ENTRIES // 2))
    return set()


def _timed(call: Callable[[], Any], iterations: int) -> float:
    timings = []
    for _ in range(iterations):
        start = time.perf_counter()
        call()
        timings.append((time.perf_counter() - start) * 1000)
    return median(timings)


def run(iterations: int, log: Callable[[str], None]) -> Figures:
    from moto import mock_aws

    with (
        tempfile.TemporaryDirectory() as data_dir,
        isolated_environment(Path(data_dir)),
        mock_aws(),
    ):
        return _measure(iterations, log)


def _measure(iterations: int, log: Callable[[str], None]) -> Figures:
    from licensing_core.services import status_lists as service
    from licensing_core.store import status_lists as store
    from licensing_core.store.base import create_missing_tables
    from licensing_core.store.models import ALL_MODELS, StatusChunk, StatusCounter

    create_missing_tables(ALL_MODELS)
    StatusCounter(*store.COUNTER_KEY, allocated=ENTRIES).save()
    handler = load_handler("status_list").handler
    event = api_event("GET", "/status-lists/0")
    rng = random.Random(23)
    cases: list[Case] = []
    costs: dict[str, Any] = {}
    for kind in ("empty", "1% in runs of 50", "50% random", "1% random"):
        for item in StatusChunk.query("0"):
            item.delete()
        revoked = _indexes(kind, rng)
        log(f"status lists: {kind}: setting {len(revoked):,} bits")
        store.set_bits("0", dict.fromkeys(revoked, True))
        service._SIGNED.clear()
        token = handler(event, None)["body"]
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        cases.append(Case(kind, len(revoked), len(token), len(claims["status_list"]["lst"])))
    # the last case, 1% at random, stays for the costs
    chunks = list(StatusChunk.query("0"))
    costs["items_read"] = len(chunks)
    costs["bytes_read"] = sum(len(item.bits or b"") + 40 for item in chunks)
    costs.update(_costs(handler, event, token, revoked, rng, iterations))
    return Figures(cases=cases, iterations=iterations, **costs)


def _costs(
    handler: Callable[..., dict[str, Any]],
    event: dict[str, Any],
    token: str,
    revoked: set[int],
    rng: random.Random,
    iterations: int,
) -> dict[str, float]:
    """Median times of serving, revalidating, flipping one bit and verifying in the SDK."""
    from licensing_client import LicensingClient
    from licensing_client.offline import verify_status_list
    from licensing_core.domain import status_lists as rules
    from licensing_core.services import status_lists as service
    from licensing_core.store import status_lists as store
    from licensing_core.tokens.signer import get_signer

    uri = "https://api.bench/status-lists/0"
    stored = store.read("0")
    keys = LicensingClient.offline(
        jwks={"keys": [key.to_jwk() for key in get_signer().published]},
        issuer=ISSUER,
        product="bench",
    ).discovery.key
    listed = verify_status_list(token, keys=keys, issuer=ISSUER, uri=uri, now=time.time())
    assert all(listed.revoked(index) for index in revoked)

    def serve_signing() -> None:
        service._SIGNED.clear()
        handler(event, None)

    etag = handler(event, None)["headers"]["etag"]
    conditional = {**event, "headers": {**event["headers"], "if-none-match": etag}}
    assert handler(conditional, None)["statusCode"] == 304
    free = iter(rng.sample([i for i in range(ENTRIES) if i not in revoked], iterations))
    return {
        "serve_ms": _timed(serve_signing, iterations),
        "cached_ms": _timed(lambda: handler(event, None), iterations),
        "revalidate_ms": _timed(lambda: handler(conditional, None), iterations),
        "flip_ms": _timed(lambda: store.set_bits("0", {next(free): True}), iterations),
        "verify_ms": _timed(
            lambda: verify_status_list(token, keys=keys, issuer=ISSUER, uri=uri, now=time.time()),
            iterations,
        ),
        "sign_ms": _timed(lambda: _sign_only(stored), iterations),
        **_levels(rules.assemble(stored.chunks), max(3, iterations // 5)),
    }


def _levels(data: bytes, iterations: int) -> dict[str, float]:
    """zlib at the level we use and at the highest (the draft's recommendation)."""
    from licensing_core.domain import status_lists as rules

    return {
        "ours_ms": _timed(lambda: rules.encoded(data), iterations),
        "ours_bytes": len(rules.encoded(data)),
        "highest_ms": _timed(lambda: rules.encoded(data, 9), iterations),
        "highest_bytes": len(rules.encoded(data, 9)),
    }


def _sign_only(stored: Any) -> None:
    """What serving computes: assemble the chunks, compress, sign (no storage)."""
    from licensing_core.domain import status_lists as rules
    from licensing_core.tokens.jws import sign_compact
    from licensing_core.tokens.signer import get_signer

    claims = rules.list_claims("https://api.bench/status-lists/0", rules.assemble(stored.chunks),
                               issuer=ISSUER, iat=rules.window_start(int(time.time())))  # fmt: skip
    sign_compact(claims, typ=rules.STATUS_LIST_TYPE, signer=get_signer())


def markdown(figures: Figures) -> list[str]:
    """The section of ``RESULTS.md`` (starting with its heading)."""
    from licensing_core.domain import status_lists as rules

    consistent_units = math.ceil(figures.bytes_read / READ_UNIT)
    lines = [
        SECTION,
        "",
        f"`python -m bench.status_lists` (in-process moto). One list: {rules.LIST_CAPACITY:,} "
        f"entries in {rules.CHUNK_COUNT} chunks of {rules.CHUNK_BYTES} bytes; "
        f"{ENTRIES:,} allocated. Sizes are of the signed `statuslist+jwt` as served "
        f"(RS256, 2048-bit key); `lst` is base64url(zlib level {rules.COMPRESSION_LEVEL}).",
        "",
        "| bits set | revoked | token bytes | `lst` bytes |",
        "|---|---:|---:|---:|",
        *(
            f"| {c.name} | {c.revoked:,} | {c.jwt_bytes:,} | {c.lst_bytes:,} |"
            for c in figures.cases
        ),
        "",
        f"Fetch cost at {ENTRIES:,} entries, 1% revoked at random (median of "
        f"{figures.iterations}):",
        "",
        "| operation | DynamoDB | time |",
        "|---|---|---:|",
        f"| serve, signing (a new window or version) | 1 GetItem (head) + 1 Query of "
        f"{figures.items_read} items, {figures.bytes_read / 1024:.0f} KiB: "
        f"{consistent_units / 2:.0f} RCU eventually consistent | {figures.serve_ms:.1f} ms |",
        f"| of which assembling, zlib and RS256 (no storage) | none | {figures.sign_ms:.1f} ms |",
        f"| serve, this container signed it already | 1 GetItem (head, 0.5 RCU) | "
        f"{figures.cached_ms:.1f} ms |",
        f"| revalidate (`If-None-Match`, 304) | 1 GetItem (head), no body | "
        f"{figures.revalidate_ms:.1f} ms |",
        f"| set one bit (a revocation's consumer) | 1 GetItem + TransactWriteItems of 2 items "
        f"(1 KiB chunk, head): 4 WCU | {figures.flip_ms:.1f} ms |",
        f"| SDK: verify RS256 + inflate 128 KiB | none | {figures.verify_ms:.2f} ms |",
        "",
        f"zlib level {rules.COMPRESSION_LEVEL} (ours): `lst` {figures.ours_bytes:,.0f} bytes in "
        f"{figures.ours_ms:.0f} ms; level 9 (the draft's recommendation): "
        f"{figures.highest_bytes:,.0f} bytes in {figures.highest_ms:.0f} ms, "
        f"{figures.highest_ms / figures.ours_ms:.0f}x the CPU for "
        f"{1 - figures.highest_bytes / figures.ours_bytes:.0%} fewer bytes.",
        "",
        "What follows: a list stays small while revocations are sparse (1% at random is the "
        "bad realistic case: a license's files are allocated together and revoked together, "
        "which compresses like the runs); a client polling every minute costs one small read "
        "per poll until a bit changes (304), and a container signs a list once per version "
        "and 5-minute window; serving a whole list is one query of a fixed number of items "
        "whatever the number of files. Times are in-process moto on a shared 2-core "
        "machine: compare rows, not absolutes.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import RESULTS
    from bench.report import replace_section

    parser = argparse.ArgumentParser(prog="python -m bench.status_lists", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--iterations", type=int, default=50, help="timed runs per operation")
    parser.add_argument("--no-write", action="store_true", help="print, write no file")
    args = parser.parse_args(argv)
    figures = run(args.iterations, log=lambda message: print(message, flush=True))
    print("\n".join(markdown(figures)))
    if not args.no_write:
        RESULTS.write_text(replace_section(RESULTS.read_text(), SECTION, markdown(figures)))
        print(f"\nwritten: the section of {RESULTS.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
