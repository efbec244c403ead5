"""The local server under a day of work: a real ``python -m local`` process, real HTTP.

- **Growth**: a fresh server takes W writes over HTTP (cycles of ``POST /customers``,
  ``POST /license-keys`` and an activation, from two client threads); its RSS is read
  every 1,000 writes, with the p50 latency of those 1,000. Then Ctrl-C (time to exit)
  and a restart on the same data directory (time until it answers, RSS after loading).
- **Latency vs data**: two servers side by side, one empty and one holding 100,000 audit
  records (seeded in bulk through the embedded moto's DynamoDB API: clones of a real
  record under new keys); the same write cycles alternate between them, in rotating
  order, and the p50 of each write is compared.

Figures accumulate in ``artifacts/local_server.json`` by size, so that a ``--big`` run
(50,000 writes, about half an hour here) stays in ``RESULTS.md`` after a default one.

    python -m bench.local_server            # 10,000 writes; rewrites its RESULTS.md section
    python -m bench.local_server --big      # 10,000 and 50,000 writes
    python -m bench --only local            # the same as a section of the whole run
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.support import ARTIFACTS, percentile

FIGURES = ARTIFACTS / "local_server.json"
WRITES = (10_000,)
BIG_WRITES = (10_000, 50_000)
AUDIT_RECORDS = 100_000
#: What a write cycle is made of, in order (each is one write).
ENDPOINTS = ("POST /customers", "POST /license-keys", "activate")
CHECKPOINT = 1_000
CLIENTS = 2
RSS_TARGET_MB = 1024.0
LATENCY_TARGET = 1.5
SECTION = "## Local server under a day of work"

Log = Callable[[str], None]


# --- Figures --------------------------------------------------------------------------


@dataclass
class Checkpoint:
    writes: int
    rss_mb: float
    #: p50 of the writes since the previous checkpoint
    p50_ms: float
    #: the machine's 1-minute load average then (other work slows every write alike)
    load: float | None = None


@dataclass
class Growth:
    writes: int
    date: str
    seconds: float
    checkpoints: list[Checkpoint]
    items: int
    stop_seconds: float
    restart_seconds: float
    restart_rss_mb: float

    @property
    def rss_mb(self) -> float:
        return self.checkpoints[-1].rss_mb

    @property
    def kb_per_write(self) -> float:
        """RSS growth per write over the second half of the run (past the warm-up)."""
        half = self.checkpoints[(len(self.checkpoints) - 1) // 2]
        last = self.checkpoints[-1]
        return (last.rss_mb - half.rss_mb) * 1024 / max(1, last.writes - half.writes)


@dataclass
class Latency:
    audit_records: int
    date: str
    iterations: int
    seed_seconds: float
    empty_p50_ms: dict[str, float]
    full_p50_ms: dict[str, float]
    full_p90_ms: dict[str, float]
    empty_p90_ms: dict[str, float]
    #: the machine's 1-minute load average at the end
    load: float | None = None

    def ratio(self, endpoint: str) -> float:
        return self.full_p50_ms[endpoint] / self.empty_p50_ms[endpoint]


@dataclass
class Figures:
    """What the runs so far measured (``growth`` by number of writes)."""

    growth: dict[int, Growth] = field(default_factory=dict)
    latency: Latency | None = None

    @classmethod
    def load(cls, path: Path = FIGURES) -> Figures:
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text())
        growth = {
            int(writes): Growth(
                **{**value, "checkpoints": [Checkpoint(**c) for c in value["checkpoints"]]}
            )
            for writes, value in raw.get("growth", {}).items()
        }
        latency = Latency(**raw["latency"]) if raw.get("latency") else None
        return cls(growth, latency)

    def save(self, path: Path = FIGURES) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1, sort_keys=True) + "\n")

    def merged(self, newer: Figures) -> Figures:
        latency = newer.latency or self.latency
        return Figures({**self.growth, **newer.growth}, latency)


# --- A server and its HTTP clients ------------------------------------------------------


def _today() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _shown(load: float | None) -> str:
    return "-" if load is None else f"{load:.1f}"


def rss_mb(pid: int) -> float:
    """Resident set size of a process (Linux ``/proc``, else ``ps``)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True)  # noqa: S603, S607
    return int(out.stdout.strip() or 0) / 1024


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux ``/proc``; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, *, limit: float = 900.0) -> float:
    """Wait until a process spends under a tenth of a core for two seconds running (its
    background work done: the stream relay publishing what a bulk seed wrote); the
    seconds waited."""
    started = last_time = time.perf_counter()
    last_cpu = cpu_seconds(pid)
    quiet = 0
    while last_cpu is not None and quiet < 2 and time.perf_counter() - started < limit:
        time.sleep(1.0)
        now, cpu = time.perf_counter(), cpu_seconds(pid)
        if cpu is None:
            break
        quiet = quiet + 1 if (cpu - last_cpu) / (now - last_time) < 0.1 else 0
        last_time, last_cpu = now, cpu
    return time.perf_counter() - started


class Server:
    """``python -m local`` on a free port (the e2e suite's process helper)."""

    def __init__(self, data_dir: Path) -> None:
        from tests.e2e.client import LocalServer

        self.data_dir = data_dir
        started = time.perf_counter()
        self.process = LocalServer.start(data_dir, "--port", "0", "--log-level", "WARNING")
        self.start_seconds = time.perf_counter() - started
        self.url = self.process.base_url
        self.token = self.process.admin_token
        self._token_lock = threading.Lock()

    @property
    def pid(self) -> int:
        return int(self.process.process.pid)

    def fresh_token(self, stale: str) -> str:
        """A new admin token (the first expires after an hour)."""
        with self._token_lock:
            if self.token == stale:
                self.token = self.process.token("admin")
            return self.token

    def stop(self) -> float:
        """Ctrl-C; seconds until the process exited."""
        started = time.perf_counter()
        code = self.process.stop()
        if code != 0:
            raise RuntimeError(f"the local server exited with {code}:\n{self.process.output()}")
        return time.perf_counter() - started


class Client:
    """HTTP calls to a server, one connection each: on a kept-alive connection every
    answer waited about 40 ms for the client's delayed ACK (the gateway writes headers
    and body apart, with Nagle's algorithm on), which is not the server's time."""

    def __init__(self, server: Server) -> None:
        self.server = server
        host, _, port = server.url.removeprefix("http://").rpartition(":")
        self.address = (host, int(port))

    def _send(self, method: str, path: str, body: Any, token: str | None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(*self.address, timeout=60)
        try:
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            connection.request(method, path, json.dumps(body) if body else None, headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def call(self, method: str, path: str, body: Any = None, *, admin: bool = True) -> Any:
        token = self.server.token if admin else None
        status, payload = self._send(method, path, body, token)
        if status == 401 and token:  # the first admin token expires after an hour
            status, payload = self._send(method, path, body, self.server.fresh_token(token))
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {payload[:300]!r}")
        return json.loads(payload)

    def demo_tier(self) -> tuple[str, str]:
        """The demo product and its first tier, which every cycle licenses."""
        products = self.call("GET", "/products")["items"]
        product = next(p for p in products if p["code"] == "Rdn.Identity")
        tiers = self.call("GET", f"/products/{product['productId']}/tiers")["items"]
        return product["productId"], tiers[0]["tierId"]

    def cycle(self, product: tuple[str, str], n: int) -> list[float]:
        """One customer, its license key and an activation: seconds of each write."""
        seconds = []
        started = time.perf_counter()
        customer = self.call("POST", "/customers", {"email": f"c{n}@bench.example", "name": "B"})
        seconds.append(time.perf_counter() - started)
        body = {"productId": product[0], "tierId": product[1], "customerId": customer["customerId"]}
        started = time.perf_counter()
        key = self.call("POST", "/license-keys", {**body, "perpetual": True})
        seconds.append(time.perf_counter() - started)
        body = {"keyToken": key["keyToken"], "machineId": f"machine-{n}"}
        started = time.perf_counter()
        self.call("POST", "/license-activations/activate", body, admin=False)
        seconds.append(time.perf_counter() - started)
        return seconds


def _stored_items(data_dir: Path) -> int:
    import sqlite3

    from local.persistence import STORE_FILE

    with closing(sqlite3.connect(f"file:{data_dir / STORE_FILE}?mode=ro", uri=True)) as store:
        return int(store.execute("SELECT COUNT(*) FROM items").fetchone()[0])


# --- Growth -------------------------------------------------------------------------


def growth(writes: int, work_dir: Path, log: Log) -> Growth:
    """Memory and latency of a fresh server as ``writes`` writes arrive over HTTP."""
    data_dir = work_dir / f"growth-{writes}"
    server = Server(data_dir)
    numbers = itertools.count()
    samples: list[float] = []  # seconds of each write, in the order they completed
    failures: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        client = Client(server)
        try:
            product = client.demo_tier()
            while not failures:
                n = next(numbers)
                if n * len(ENDPOINTS) >= writes:
                    return
                seconds = client.cycle(product, n)
                with lock:
                    samples.extend(seconds)
        except BaseException as error:
            failures.append(error)

    started = time.perf_counter()
    threads = [threading.Thread(target=work, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    checkpoints: list[Checkpoint] = []
    try:
        while len(checkpoints) * CHECKPOINT < writes and not failures:
            time.sleep(0.05)
            with lock:
                done = len(samples)
            mark = (len(checkpoints) + 1) * CHECKPOINT
            if done >= mark or (done >= writes and not any(t.is_alive() for t in threads)):
                window = samples[mark - CHECKPOINT : mark]
                checkpoints.append(
                    Checkpoint(done, rss_mb(server.pid), percentile(window, 50) * 1e3, _load())
                )
                if len(checkpoints) % 5 == 0 or done >= writes:
                    last = checkpoints[-1]
                    log(f"    {done:,} writes: RSS {last.rss_mb:.0f} MB, p50 {last.p50_ms:.1f} ms")
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        seconds = time.perf_counter() - started
        stop_seconds = server.stop()
    except BaseException:
        server.process.kill()
        raise
    items = _stored_items(data_dir)
    again = Server(data_dir)
    restart_rss = rss_mb(again.pid)
    again.stop()
    log(f"    stop {stop_seconds:.2f} s, restart with {items:,} items {again.start_seconds:.1f} s")
    return Growth(
        writes,
        _today(),
        seconds,
        checkpoints,
        items,
        stop_seconds,
        again.start_seconds,
        restart_rss,
    )


# --- Latency vs data --------------------------------------------------------------------


def _seed_audit(server: Server, count: int) -> None:
    """``count`` audit records, clones of one the server wrote, in BatchWriteItem calls
    straight to the embedded moto (saved to the data directory like any request)."""
    from local.aws import dynamodb_client

    client = dynamodb_client(server.process.state()["aws_endpoint"])
    table = next(name for name in client.list_tables()["TableNames"] if name.endswith("audit"))
    keys = [
        k["AttributeName"] for k in client.describe_table(TableName=table)["Table"]["KeySchema"]
    ]
    template = client.scan(TableName=table, Limit=1)["Items"][0]

    def clones() -> Iterator[dict[str, Any]]:
        for n in range(count):
            yield {**template, **{key: {"S": f"{template[key]['S']}.{n}"} for key in keys}}

    batch: list[Any] = []
    for item in clones():
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={table: batch})
    held = client.describe_table(TableName=table)["Table"]["ItemCount"]
    if held < count:
        raise RuntimeError(f"seeded {held} of {count} audit records")


def latency(audit_records: int, iterations: int, work_dir: Path, log: Log) -> Latency:
    """p50 of each write on a server holding ``audit_records`` audit records and on an
    empty one, interleaved (rotating order) so that the machine's load hits both."""
    servers = {"empty": Server(work_dir / "empty"), "full": Server(work_dir / "full")}
    try:
        clients = {name: Client(server) for name, server in servers.items()}
        products = {name: client.demo_tier() for name, client in clients.items()}
        clients["full"].cycle(products["full"], -1)  # an audit record to clone
        started = time.perf_counter()
        _seed_audit(servers["full"], audit_records)
        seed_seconds = time.perf_counter() - started
        waited = wait_until_idle(servers["full"].pid)
        log(
            f"    {audit_records:,} audit records seeded in {seed_seconds:.0f} s, idle {waited:.0f} s later"
        )
        samples: dict[str, list[list[float]]] = {name: [] for name in servers}
        warmup = max(5, iterations // 10)
        names = list(servers)
        for i in range(warmup + iterations):
            for name in names[i % 2 :] + names[: i % 2]:
                seconds = clients[name].cycle(products[name], i)
                if i >= warmup:
                    samples[name].append(seconds)
    finally:
        for server in servers.values():
            server.stop()

    def p(name: str, q: float) -> dict[str, float]:
        return {
            endpoint: percentile([s[k] for s in samples[name]], q) * 1e3
            for k, endpoint in enumerate(ENDPOINTS)
        }

    return Latency(
        audit_records, _today(), iterations, seed_seconds,
        empty_p50_ms=p("empty", 50), full_p50_ms=p("full", 50),
        full_p90_ms=p("full", 90), empty_p90_ms=p("empty", 90), load=_load(),
    )  # fmt: skip


# --- Runs and the report -------------------------------------------------------------------


def run(
    writes: Sequence[int] = WRITES,
    audit_records: int = AUDIT_RECORDS,
    iterations: int = 200,
    *,
    log: Log = print,
) -> Figures:
    """Measure; the figures of earlier runs (other sizes) merged with these (to be
    saved with :meth:`Figures.save` unless the run was a rough one)."""
    measured = Figures()
    with tempfile.TemporaryDirectory(prefix="bench-local-") as work:
        for count in writes:
            log(f"  growth: {count:,} writes over HTTP, {CLIENTS} clients")
            measured.growth[count] = growth(count, Path(work), log)
        log(
            f"  latency: {iterations} cycles on an empty server and one with {audit_records:,} audit records"
        )
        measured.latency = latency(audit_records, iterations, Path(work), log)
    return Figures.load().merged(measured)


def summary_rows(figures: Figures) -> list[tuple[str, str, str, str]]:
    """(section, measure, value, target) rows of the one summary table."""
    rows: list[tuple[str, str, str, str]] = []
    for count, grown in sorted(figures.growth.items()):
        met = "met" if grown.rss_mb <= RSS_TARGET_MB else "NOT met"
        rows.append(
            (
                "local server" if not rows else "",
                f"RSS after {count:,} writes over HTTP ({grown.date})",
                f"{grown.rss_mb:.0f} MB ({grown.kb_per_write:.1f} KB per write)",
                f"<= 1 GB: {met}",
            )
        )
    if figures.latency:
        lat = figures.latency
        for endpoint in ENDPOINTS:
            ratio = lat.ratio(endpoint)
            met = "met" if ratio <= LATENCY_TARGET else "NOT met"
            rows.append(
                (
                    "local server" if not rows else "",
                    f"{endpoint}: p50 at {lat.audit_records:,} audit records / at 0",
                    f"{ratio:.2f}x  ({lat.full_p50_ms[endpoint]:.1f} / {lat.empty_p50_ms[endpoint]:.1f} ms)",
                    f"<= {LATENCY_TARGET:g}: {met}",
                )
            )
    return rows


def markdown(figures: Figures) -> list[str]:
    """The section of ``RESULTS.md`` (starting with its heading)."""
    out = [SECTION, ""]
    out.append(
        "A real `python -m local` process over real HTTP (`bench/local_server.py`). *Growth*: a "
        f"fresh server takes the writes from {CLIENTS} client threads, in cycles of "
        "`POST /customers`, `POST /license-keys` and an activation; RSS is read every "
        f"{CHECKPOINT:,} writes, with the p50 of those writes; then Ctrl-C, and a restart "
        "that loads the data directory. *Latency vs data*: an empty server and one holding "
        "seeded audit records (bulk BatchWriteItem to its moto) take the same cycles, "
        "alternating, rotating order. The p50 of a growth checkpoint moves with the machine's "
        "load (other processes share its cores); the side-by-side ratios do not."
    )
    out += ["", "| measure | value | target |", "|---|---|---|"]
    out += [
        f"| {measure} | {value} | {target} |" for _, measure, value, target in summary_rows(figures)
    ]
    if figures.growth:
        out += ["", "| writes | run | RSS | growth per write (2nd half) | p50 first / last 1,000 | "
                "items stored | Ctrl-C to exit | restart until it answers | RSS after restart |",
                "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for count, grown in sorted(figures.growth.items()):
            first, last = grown.checkpoints[0], grown.checkpoints[-1]
            out.append(
                f"| {count:,} | {grown.date}, {grown.seconds / 60:.0f} min | {grown.rss_mb:.0f} MB | "
                f"{grown.kb_per_write:.1f} KB | {first.p50_ms:.1f} / {last.p50_ms:.1f} ms | "
                f"{grown.items:,} | {grown.stop_seconds:.2f} s | {grown.restart_seconds:.1f} s | "
                f"{grown.restart_rss_mb:.0f} MB |"
            )
        largest = figures.growth[max(figures.growth)]
        out += [
            "",
            f"RSS and p50 every {CHECKPOINT:,} writes of the {max(figures.growth):,}-write run:",
            "",
        ]
        step = max(1, len(largest.checkpoints) // 10)
        shown = largest.checkpoints[step - 1 :: step]
        loads = any(c.load is not None for c in shown)
        out += ["| writes | RSS | p50 |" + (" load average |" if loads else ""), "|---|---|---|" + ("---|" if loads else "")]  # fmt: skip
        out += [
            f"| {c.writes:,} | {c.rss_mb:.0f} MB | {c.p50_ms:.1f} ms |"
            + (f" {_shown(c.load)} |" if loads else "")
            for c in shown
        ]
    if figures.latency:
        lat = figures.latency
        out += [
            "",
            f"Latency vs data ({lat.date}): {lat.iterations} cycles per server after warm-up; "
            f"{lat.audit_records:,} audit records seeded in {lat.seed_seconds:.0f} s"
            + ("." if lat.load is None else f"; load average at the end {lat.load:.1f}."),
            "",
            "| write | p50 empty | p50 full | full / empty | p90 empty | p90 full |",
            "|---|---|---|---|---|---|",
        ]
        for endpoint in ENDPOINTS:
            out.append(
                f"| {endpoint} | {lat.empty_p50_ms[endpoint]:.1f} ms | {lat.full_p50_ms[endpoint]:.1f} ms | "
                f"{lat.ratio(endpoint):.2f}x | {lat.empty_p90_ms[endpoint]:.1f} ms | "
                f"{lat.full_p90_ms[endpoint]:.1f} ms |"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import RESULTS
    from bench.report import replace_section

    parser = argparse.ArgumentParser(prog="python -m bench.local_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--big", action="store_true", help="also 50,000 writes")
    parser.add_argument("--quick", action="store_true", help="1,000 writes, 10,000 audit records")
    parser.add_argument("--iterations", type=int, default=None, help="latency cycles (default 200)")
    parser.add_argument("--no-write", action="store_true", help="print, write no file")
    parser.add_argument(
        "--render", action="store_true", help="measure nothing: the section from the saved figures"
    )
    args = parser.parse_args(argv)
    writes = (1_000,) if args.quick else BIG_WRITES if args.big else WRITES
    figures = (
        Figures.load()
        if args.render
        else run(
            writes,
            10_000 if args.quick else AUDIT_RECORDS,
            args.iterations or (30 if args.quick else 200),
            log=lambda message: print(message, flush=True),
        )
    )
    print("\n".join(markdown(figures)))
    if not args.no_write:
        if not (args.quick or args.render):
            figures.save()
        RESULTS.write_text(replace_section(RESULTS.read_text(), SECTION, markdown(figures)))
        print(f"\nwritten: the section of {RESULTS.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
