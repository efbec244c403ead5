"""The web console's weight and speed: what the browser downloads for the first screen,
and how long the first page of a license search takes to reach the screen once the API
has answered, with 10,000 licenses behind it.

- **JavaScript for the first screen**: from the build's metafile (``console/.build``),
  the entry and every chunk it imports statically, plus the screens of the area shown
  first and their imports (a vendor lands on the overview, whose charts load uPlot;
  a customer on their licenses), gzipped; and, in Chromium, the encoded bytes of every
  script the page fetched from the local server (which gzips them, as CloudFront does).
- **Search to screen**: a real ``python -m local`` holding N licenses of one product
  (issued over HTTP, each to a new identity), the console signed in as the admin in
  headless Chromium; each round searches for nothing (an empty table), then for the
  product: the first page's 50 rows. In the page, ``responseEnd`` of the search request
  (Resource Timing) to the frame after the 50th row is in the table (two animation
  frames: the rows are painted). Medians and p95 over the rounds; the API's own time
  (request start to response end) beside it.

    python -m bench.console                 # 10,000 licenses; rewrites its RESULTS.md section
    python -m bench.console --quick         # 1,000 licenses, fewer rounds (rough figures)
    python -m bench.console --render        # the section from bench/artifacts/console.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.support import ARTIFACTS, ROOT, median, percentile

CONSOLE = ROOT / "console"
METAFILE = CONSOLE / ".build" / "meta.json"
DIST = CONSOLE / "dist"
SECTION = "## Web console"
FIGURES = ARTIFACTS / "console.json"
JS_TARGET_KB = 150.0
RENDER_TARGET_MS = 300.0
PAGE_ROWS = 50
CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class Figures:
    date: str
    vendor_js_kb: float  #: gzipped, from the metafile
    portal_js_kb: float
    vendor_fetched_kb: float  #: encoded bytes of the scripts Chromium fetched
    portal_fetched_kb: float
    licenses: int
    seed_seconds: float
    rounds: int
    render_p50_ms: float
    render_p95_ms: float
    api_p50_ms: float
    next_page_p50_ms: float


# --- Weight -----------------------------------------------------------------------------


def _gzipped_kb(paths: set[str]) -> float:
    return sum(len(gzip.compress((CONSOLE / path).read_bytes(), 6)) for path in paths) / 1024


def first_screen_js(area: str, *, charts: bool) -> float:
    """Gzipped KB of the scripts a first visit to ``area`` ("vendor", "portal") loads."""
    meta = json.loads(METAFILE.read_text())
    outputs: dict[str, Any] = meta["outputs"]

    def closure(start: str) -> set[str]:
        found, todo = set(), [start]
        while todo:
            path = todo.pop()
            if path in found:
                continue
            found.add(path)
            todo += [i["path"] for i in outputs[path]["imports"] if i["kind"] == "import-statement"]
        return found

    def output_of(entry: str) -> str:
        return next(p for p, o in outputs.items() if o.get("entryPoint", "").endswith(entry))

    loaded = closure(output_of("src/main.tsx")) | closure(output_of(f"src/{area}/screens.tsx"))
    if charts:
        loaded |= closure(next(p for p in outputs if "uPlot" in p and p.endswith(".js")))
    return _gzipped_kb({path for path in loaded if path.endswith(".js")})


# --- The server and its data ------------------------------------------------------------


def _seed(server: Any, count: int, log: Any) -> float:
    from tests.e2e.client import call

    started = time.perf_counter()
    url = f"{server.base_url}/license-keys"

    def issue(index: int) -> None:
        body = {
            "productId": "Rdn.Identity",
            "tierId": "pro",
            "customerEmail": f"bench-{index}-{uuid.uuid4().hex[:6]}@example.com",
            "perpetual": True,
        }
        reply = call("POST", url, token=server.admin_token, json_body=body)
        if reply.status != 201:
            raise RuntimeError(f"issue {index}: {reply.status} {reply.body}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        for done, _ in enumerate(pool.map(issue, range(count)), start=1):
            if done % 1000 == 0:
                log(f"  {done:,} licenses issued ({time.perf_counter() - started:.0f} s)")
    return time.perf_counter() - started


# --- The browser ------------------------------------------------------------------------

#: Watches for the next search to show ``rows`` rows whose first row is not ``previous``;
#: then sets ``window.__measured`` to (API time, response end -> rows painted, first row).
_WATCH = """([rows, previous]) => {
  window.__measured = undefined;
  const done = () => {
    const body = document.querySelector("table tbody");
    const links = body ? body.querySelectorAll("tr > th a") : [];
    if (links.length !== rows || links[0].textContent === previous) return false;
    observer.disconnect();
    requestAnimationFrame(() => requestAnimationFrame(() => {
      const painted = performance.now();
      const searches = performance.getEntriesByType("resource")
        .filter((e) => e.name.includes("/license-keys?"));
      const last = searches[searches.length - 1];
      window.__measured = [last.responseEnd - last.requestStart, painted - last.responseEnd,
                           links[0].textContent];
    }));
    return true;
  };
  const observer = new MutationObserver(done);
  observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  done();
}"""


def _measured(page: Any, act: Any, previous: str) -> tuple[float, float, str]:
    """Watch, do ``act`` (a click), wait for the rows: the figures of that search."""
    page.evaluate(_WATCH, [PAGE_ROWS, previous])
    act()
    page.wait_for_function("() => window.__measured !== undefined", timeout=60_000)
    api_ms, render_ms, first = page.evaluate("window.__measured")
    return float(api_ms), float(render_ms), str(first)


def _fetched_js_kb(page: Any) -> float:
    sizes = page.evaluate(
        "performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.js'))"
        ".map((e) => e.encodedBodySize)"
    )
    return float(sum(sizes)) / 1024


def _sign_in(page: Any, server: Any, role: str, path: str) -> None:
    from playwright.sync_api import expect

    account = server.state()["accounts"][role]
    page.goto(f"{server.base_url}/console/{path}")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Email address").fill(account["username"])
    page.get_by_label("Password").fill(account["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=30_000)


def measure(server: Any, rounds: int, log: Any) -> dict[str, Any]:
    from playwright.sync_api import expect, sync_playwright

    figures: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for role, path, key in (("user", "portal", "portal"), ("admin", "overview", "vendor")):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            _sign_in(page, server, role, path)
            if role == "admin":
                expect(page.locator(".chart-canvas canvas").first).to_be_visible(timeout=30_000)
            else:
                expect(page.get_by_role("heading", name="My licenses")).to_be_visible()
            page.wait_for_load_state("networkidle")
            figures[f"{key}_fetched_kb"] = _fetched_js_kb(page)
            context.close()

        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        _sign_in(page, server, "admin", "licenses")
        search = page.get_by_role("search", name="Licenses")
        api, render, next_page = [], [], []
        previous = ""
        for index in range(rounds + 3):  # three rounds of warm-up
            search.get_by_label("Customer email").fill("nobody-at-all@example.com")
            search.get_by_role("button", name="Search").click()
            expect(page.get_by_text("No license matches these filters.")).to_be_visible()
            search.get_by_label("Customer email").fill("")
            search.get_by_label("Product").select_option(label="Rdn Identity")
            api_ms, render_ms, previous = _measured(
                page, search.get_by_role("button", name="Search").click, previous
            )
            _, next_ms, previous = _measured(
                page, page.get_by_role("button", name="Next page").click, previous
            )
            page.get_by_role("button", name="Previous page").click()
            if index >= 3:
                api.append(api_ms)
                render.append(render_ms)
                next_page.append(next_ms)
        log(f"  {rounds} rounds: render p50 {median(render):.1f} ms, API p50 {median(api):.1f} ms")
        browser.close()
    figures.update(
        rounds=rounds,
        render_p50_ms=median(render),
        render_p95_ms=percentile(render, 95),
        api_p50_ms=median(api),
        next_page_p50_ms=median(next_page),
    )
    return figures


def run(licenses: int, rounds: int, log: Any) -> Figures:
    from tests.e2e.client import LocalServer, free_port

    subprocess.run(["make", "-s", "console"], cwd=ROOT, check=True)  # noqa: S607
    vendor_kb = first_screen_js("vendor", charts=True)
    portal_kb = first_screen_js("portal", charts=False)
    log(f"first screen: vendor {vendor_kb:.1f} KB, portal {portal_kb:.1f} KB (gzip)")
    with tempfile.TemporaryDirectory() as temporary:
        server = LocalServer.start(Path(temporary) / "data", "--port", str(free_port()))
        try:
            log(f"issuing {licenses:,} licenses over HTTP…")
            seed_seconds = _seed(server, licenses, log)
            measured = measure(server, rounds, log)
        finally:
            server.stop()
    return Figures(
        date=dt.date.today().isoformat(),
        vendor_js_kb=vendor_kb,
        portal_js_kb=portal_kb,
        licenses=licenses,
        seed_seconds=seed_seconds,
        **measured,
    )


def markdown(figures: Figures) -> list[str]:
    """The section of ``RESULTS.md`` (starting with its heading)."""

    def verdict(value: float, target: float) -> str:
        return "met" if value <= target else "MISSED"

    return [
        SECTION,
        "",
        f"`python -m bench.console` ({figures.date}), headless Chromium against `python -m local`. "
        "*First screen*: the entry and every chunk it imports, plus the area's screens (the "
        "vendor's overview loads the chart library), gzipped from the build's metafile; "
        "*fetched*: the encoded bytes of the scripts Chromium downloaded on that first visit. "
        f"*Search to screen*: with {figures.licenses:,} licenses of one product "
        f"(issued over HTTP in {figures.seed_seconds:.0f} s), each of {figures.rounds} rounds "
        f"searches for nothing, then for the product: from the search's `responseEnd` "
        f"(Resource Timing) to the second animation frame after the {PAGE_ROWS}th row is in "
        "the table.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| JavaScript for the first screen, vendor (gzip) | {figures.vendor_js_kb:.1f} KB "
        f"(fetched {figures.vendor_fetched_kb:.1f} KB) | ≤ {JS_TARGET_KB:.0f} KB, "
        f"{verdict(figures.vendor_js_kb, JS_TARGET_KB)} |",
        f"| JavaScript for the first screen, customer (gzip) | {figures.portal_js_kb:.1f} KB "
        f"(fetched {figures.portal_fetched_kb:.1f} KB) | ≤ {JS_TARGET_KB:.0f} KB, "
        f"{verdict(figures.portal_js_kb, JS_TARGET_KB)} |",
        f"| first page of a search on screen after the API answered, p50 / p95 | "
        f"{figures.render_p50_ms:.1f} / {figures.render_p95_ms:.1f} ms | ≤ {RENDER_TARGET_MS:.0f} ms, "
        f"{verdict(figures.render_p95_ms, RENDER_TARGET_MS)} |",
        f"| the next page, same measure, p50 | {figures.next_page_p50_ms:.1f} ms | |",
        f"| the API's answer to that search (request start to response end), p50 | "
        f"{figures.api_p50_ms:.1f} ms | |",
    ]


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import RESULTS
    from bench.report import replace_section

    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="1,000 licenses, 10 rounds")
    parser.add_argument("--licenses", type=int, default=None, help="default 10,000")
    parser.add_argument("--rounds", type=int, default=None, help="default 30")
    parser.add_argument("--no-write", action="store_true", help="print, write no file")
    parser.add_argument(
        "--render", action="store_true", help="measure nothing: the section from the saved figures"
    )
    args = parser.parse_args(argv)
    if args.render:
        figures = Figures(**json.loads(FIGURES.read_text()))
    else:
        figures = run(
            args.licenses or (1_000 if args.quick else 10_000),
            args.rounds or (10 if args.quick else 30),
            log=lambda message: print(message, flush=True),
        )
    print(json.dumps(asdict(figures), indent=2))
    lines = markdown(figures)
    print("\n".join(lines))
    if not args.no_write:
        if not (args.quick or args.render):
            FIGURES.write_text(json.dumps(asdict(figures), indent=2) + "\n")
        RESULTS.write_text(replace_section(RESULTS.read_text(), SECTION, lines))
        print(f"\nwritten: {FIGURES.name}, the section of {RESULTS.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
