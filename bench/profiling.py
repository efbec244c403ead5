"""Where a handler's time goes: a pyinstrument profile of the slowest hot path, saved
as an HTML artifact, and its self time grouped by package with moto's subtree (the
stand-in for DynamoDB's service time) set apart."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.support import ARTIFACTS

MAX_ARTIFACT_BYTES = 1_000_000
ARTIFACT_CALLS = 5
_SITE = re.compile(r"site-packages/([A-Za-z0-9_]+)")
_STDLIB = re.compile(r"/lib/python3\.\d+/([A-Za-z0-9_]+(?:\.py)?)")


@dataclass(frozen=True)
class Profile:
    path: str
    calls: int
    artifact: str | None
    #: package -> milliseconds per call (self time), moto's whole subtree under "moto"
    per_package_ms: dict[str, float]


def package_of(file_path: str | None) -> str:
    if not file_path:
        return "builtins"
    path = file_path.replace("\\", "/")
    if "site-packages/" in path:
        site = _SITE.search(path)
        return site.group(1).removesuffix(".py") if site else "site-packages"
    if "/licensing_core/" in path:
        return "licensing_core." + path.rsplit("/licensing_core/", 1)[1].split("/")[0].removesuffix(
            ".py"
        )
    if "/functions/" in path:
        return "functions (handlers)"
    if "/bench/" in path:
        return "bench harness"
    stdlib = _STDLIB.search(path)
    if stdlib:
        return f"stdlib {stdlib.group(1).removesuffix('.py')}"
    return Path(path).stem


def _walk(frame: Any, totals: dict[str, float], parent: str) -> None:
    path = frame.file_path
    # "[self]" leaves and C functions (<built-in>) count for the package that runs them
    package = parent if not path or path.startswith("<") else package_of(path)
    if package == "moto":
        totals["moto"] += frame.time  # the whole subtree: DynamoDB's stand-in
        return
    children = list(frame.children)
    own = frame.time - sum(child.time for child in children)
    totals[package] += max(own, 0.0)
    for child in children:
        _walk(child, totals, package)


def profile(
    path: str,
    call: Callable[[], object],
    calls: int,
    after: Callable[[], object] | None = None,
    *,
    save: bool = False,
) -> Profile:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    for _ in range(calls):
        profiler.start()
        call()
        profiler.stop()
        if after is not None:
            after()
    session = profiler.last_session
    assert session is not None
    totals: dict[str, float] = defaultdict(float)
    root = session.root_frame()
    if root is not None:
        _walk(root, totals, "bench harness")
    totals.pop("bench harness", None)
    per_call = {k: v * 1e3 / calls for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}

    if not save:
        return Profile(path, calls, None, per_call)
    # The artifact: a few calls at a coarser interval, to keep the HTML small.
    small = Profiler(interval=0.001)
    for _ in range(ARTIFACT_CALLS):
        small.start()
        call()
        small.stop()
        if after is not None:
            after()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    slug = path.lower().replace(" ", "-")
    for stale in ARTIFACTS.glob("*.*"):
        if stale.suffix in (".html", ".txt"):
            stale.unlink()
    artifact = ARTIFACTS / f"{slug}.html"
    html = small.output_html()
    if len(html.encode()) > MAX_ARTIFACT_BYTES:
        artifact = ARTIFACTS / f"{slug}.txt"
        artifact.write_text(small.output_text(unicode=False, color=False))
    else:
        artifact.write_text(html)
    return Profile(path, calls, str(artifact.relative_to(ARTIFACTS.parents[1])), per_call)
