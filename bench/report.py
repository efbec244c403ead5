"""The one summary table printed by ``python -m bench``, and ``bench/RESULTS.md``."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench import cost, local_server, search
from bench.coldstart import BEFORE_CUTS, FLOOR_STAGE, STAGED, ColdStart, StageCost
from bench.coldstart import HOT as HOT_FUNCTIONS
from bench.contention import Contention
from bench.floor import CALLS, REASONS
from bench.hotpaths import PathResult
from bench.sdk import Sdk

HOT_TARGET = 1.25
#: heartbeat, validate and activate, as Lambda runs them (bench/coldstart.py HOT)
COLD_TARGET = 1.6
COST_TARGET = 2.0

#: What the figures changed in the code, for RESULTS.md (keep it true when the code moves).
CHANGES = [
    "transactional connections are shared per container (a new botocore client per "
    "transaction cost 200-500 ms)",
    "API models build their validators on first use, not at import (cold init 0.93x)",
    "the usage counter no longer grows per report (a receipt item per idempotency key)",
    "the product catalog is served to activate and heartbeat from the container's copy "
    "without a read for `LICENSING_CATALOG_CACHE_SECONDS` (default 60; 0 revalidates it by "
    "the product's `tiers_version` on every request, one read), so a tier change "
    "(features, limits, maxUsers) reaches activations and machine tokens within that "
    "bound; admin reads and key issuance still revalidate it on every request",
    "heartbeat: the activation and its license in one TransactGetItems (4 calls -> 2), no "
    "identity read: a token's identity ids come from the license, and the renewing "
    "transaction's ConditionCheck refuses a deactivated identity; a refusal is explained by "
    "a second read on that path only",
    "activate: no machine-claim pre-read (5 calls -> 3): the seat transaction's "
    "attribute_not_exists on the machine's claim detects a known machine, which is then "
    "read and renewed in place (no second seat); the machine token is signed and sealed "
    "before the seat-taking write (a signer or key that fails holds no seat), once per "
    "request",
    "regenerate, renew and audit no longer read the identity (its ids are on the license)",
    "the PEM signer loads its own key without cryptography's RSA consistency checks "
    "(about 40 ms of the first request of a cold start)",
    "both layers ship unchecked-hash bytecode (Lambda's /opt is read-only: without it every "
    "cold start compiled every module); applications' routes import no OIDC verifier and "
    "no jwcrypto (bearer routes only; JWE imports it when it encrypts; the signer computes "
    "its JWK thumbprint itself)",
    "a function loads the API models of its own route only (schemas/ one module per area, "
    "route rows name their models), and in Lambda the garbage collector runs rarely during "
    "init and freezes what init created (telemetry.collect_rarely_during_init)",
    "validate loads no step-up, OIDC, customers service nor JWE module (services.licenses "
    "imports them in the use cases that need them: issue, audit); every function that is no "
    "HTTP route runs inside telemetry.flushing, so the expiry job's collector leaves its "
    "init mode at its first invocation too",
    "what applications send and get are plain models (licensing_core.plain: frozen "
    "dataclasses parsed with pydantic's semantics), and settings a dataclass: validate, "
    "activate, heartbeat, deactivate and the machine-file routes never import pydantic "
    "(its import and first model build were about 55 ms of their init); validate loads its "
    "own 2 models, machine files theirs; the stored records load per table "
    "(store/models/ one module each); route rows compare by identity",
]


@dataclass
class Outcome:
    """Everything one ``python -m bench`` run measured (a section is None if skipped)."""

    settings: dict[str, Any]
    machine: dict[str, str]
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    hot: list[PathResult] | None = None
    sizes: dict[str, int] | None = None
    cold: ColdStart | None = None
    contention: Contention | None = None
    sdk: Sdk | None = None
    local: local_server.Figures | None = None
    search: search.Figures | None = None


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        load = "n/a"
    return {
        "platform": platform.platform(),
        "cpu": model,
        "cores": str(os.cpu_count()),
        "python": sys.version.split()[0],
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load average at start (1, 5, 15 min)": load,
    }


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _verdict(value: float | None, target: float) -> str:
    if value is None:
        return "-"
    return f"<= {target:g}: {'met' if value <= target else 'NOT met'}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _cost_rows(outcome: Outcome) -> list[cost.CostRow]:
    if not outcome.hot or not outcome.sizes:
        return []
    return cost.rows(outcome.hot, outcome.sizes)


def summary_rows(outcome: Outcome) -> list[tuple[str, str, str, str]]:
    """(section, measure, value, target) for the one printed table."""
    rows: list[tuple[str, str, str, str]] = []
    for result in outcome.hot or []:
        if result.drift:
            rows.append(
                (
                    "hot path",
                    f"{result.path}: DynamoDB calls observed (floor assumes "
                    f"{', '.join(result.expected)})",
                    ", ".join(result.observed),
                    "update bench/floor.py",
                )
            )
        rows.append(
            (
                "hot path",
                f"{result.path}: handler / floor ({len(result.expected)} calls)",
                f"{_x(result.ratio)}  ({_ms(result.handler_ms)} / {_ms(result.floor_ms)})",
                _verdict(result.ratio, HOT_TARGET),
            )
        )
    if outcome.cold:
        cold = outcome.cold
        heaviest = cold.functions[0]
        rows.append(
            (
                "cold init",
                f"heaviest ({heaviest.function}) / import botocore.session, as Lambda runs it",
                f"{_x(heaviest.ratio)}  ({_ms(heaviest.cpu_ms)} / {_ms(cold.baseline_ms)} CPU)",
                "",
            )
        )
        before = {f.function: f for f in cold.no_bytecode}
        for name in HOT_FUNCTIONS:
            found = next((f for f in cold.functions if f.function == name), None)
            if found:
                was = before.get(name)
                whole = next((f for f in cold.with_teardown if f.function == name), None)
                rows.append(
                    (
                        "",
                        f"{name} / import botocore.session, init + first request (whole "
                        "process with shutdown; layers without bytecode: before)",
                        f"{_x(found.ratio)} {_ms(found.cpu_ms)}"
                        + (f"  (whole: {_x(whole.ratio)} {_ms(whole.cpu_ms)})" if whole else "")
                        + (f"  (before: {_x(was.ratio)} {_ms(was.cpu_ms)})" if was else ""),
                        _verdict(found.ratio, COLD_TARGET),
                    )
                )
    if outcome.contention:
        race = outcome.contention
        rows.append(
            (
                "contention",
                f"{race.racers} racers on {race.seats} seats: correct trials",
                f"{race.correct_trials}/{race.trials}",
                f"{race.trials}/{race.trials}",
            )
        )
        rows.append(
            ("", "activation latency p50 / p99", f"{_ms(race.p50_ms)} / {_ms(race.p99_ms)}", "")
        )
    if outcome.sdk:
        if outcome.sdk.ran:
            for name, speedup in outcome.sdk.speedups.items():
                rows.append(
                    ("sdk", f"first verification, {name}: PyJWT / SDK", f"{speedup:.2f}x", "")
                )
            for name, ns in outcome.sdk.gates.items():
                rows.append(("", f"{name} (net)", f"{ns:.0f} ns/op", ""))
        else:
            rows.append(("sdk", "bench/sdk_verify.py", outcome.sdk.note, ""))
    for row in _cost_rows(outcome):
        if row.duration_basis != "measured":
            continue
        kind = "heartbeats" if row.path.startswith("heartbeat") else "activations"
        target = _verdict(row.total, COST_TARGET) if kind == "heartbeats" else ""
        rows.append(("cost", f"$ per 1M {kind} ({row.path})", f"${row.total:.2f}", target))
    if outcome.hot and outcome.sizes:
        for lever in cost.levers(outcome.hot, outcome.sizes):
            if lever.summary:
                rows.append(("", f"heartbeat JWS: {lever.change}", f"${lever.total:.2f}", ""))
    if outcome.sizes:
        part = cost.partition(outcome.sizes)
        rows.append(
            (
                "partition",
                f"1 license, {part.activations:,} machines hourly: WCU/s on its key",
                f"{part.activations_key_wcu:.1f} of {cost.PARTITION_WCU}",
                "",
            )
        )
    if outcome.local:
        rows += local_server.summary_rows(outcome.local)
    for section, error in outcome.errors.items():
        rows.append((section, "FAILED", error.splitlines()[-1][:80] if error else "", ""))
    return rows


def print_table(outcome: Outcome) -> None:
    rows = summary_rows(outcome)
    headers = ("section", "measure", "value", "target")
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def markdown(outcome: Outcome) -> str:
    out: list[str] = ["# Benchmark results", ""]
    out.append(
        "Written by `python -m bench` (see `bench/README.md` for what each figure means). "
        "Every ratio compares things measured side by side in the same run; absolute "
        "times depend on the machine and on whatever else it was running."
    )
    out += ["", "## Machine", ""]
    out += _table(("", ""), [(k, v) for k, v in outcome.machine.items()])
    settings = ", ".join(f"{k}={v}" for k, v in outcome.settings.items())
    seconds = ", ".join(f"{k} {v:.0f} s" for k, v in outcome.seconds.items())
    out += ["", f"Run: {settings}. Time per section: {seconds}.", ""]
    out += ["## Summary", ""]
    out += _table(("section", "measure", "value", "target"), summary_rows(outcome))
    out += ["", "## What was changed in the code because of them", ""]
    out += [f"- {change}" for change in CHANGES]
    if outcome.errors:
        out += ["", "## Failures", ""]
        for section, error in outcome.errors.items():
            out += [f"### {section}", "", "```", error[-3000:], "```", ""]
    if outcome.hot:
        out += _hot(outcome.hot)
    if outcome.cold:
        out += _cold(outcome.cold)
    if outcome.contention:
        out += _contention(outcome.contention)
    if outcome.sdk:
        out += ["", "## SDK", ""]
        if outcome.sdk.ran:
            out += [f"`{outcome.sdk.note}` ({outcome.sdk.seconds:.0f} s):", "", "```"]
            out += [outcome.sdk.output.rstrip(), "```"]
        else:
            out += [outcome.sdk.note]
    if outcome.sizes:
        out += _costs(outcome)
    # Kept from earlier runs when this one did not measure it (see its module).
    local = outcome.local or local_server.Figures.load()
    if local.growth or local.latency:
        out += ["", *local_server.markdown(local)]
    found = outcome.search or search.Figures.load()
    if found:
        out += ["", *search.markdown(found)]
    return "\n".join(out) + "\n"


def replace_section(text: str, heading: str, lines: list[str]) -> str:
    """``text`` (markdown) with the section under ``heading`` replaced by ``lines``
    (appended when absent); the sections around it stay as they are."""
    level = heading.split(" ", 1)[0] + " "
    old = text.splitlines()
    if heading not in old:
        return text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    start = old.index(heading)
    end = next((i for i in range(start + 1, len(old)) if old[i].startswith(level)), len(old))
    tail = ["", *old[end:]] if end < len(old) else []
    return "\n".join([*old[:start], *lines, *tail]) + "\n"


def _hot(results: list[PathResult]) -> list[str]:
    out = ["", "## Hot paths: handler vs floor", ""]
    out.append(
        f"Median of {results[0].iterations} interleaved iterations per variant after "
        "warm-up, on in-process moto. *floor* = the DynamoDB calls the request needs, "
        "which are the calls the code makes (raw boto3), + the RSA/AES work (raw "
        "`cryptography`, cached keys): `handler / floor` is the cost of our Python layers "
        "(pydantic, PynamoDB, jwcrypto, the endpoint wrapper). *client* = time outside moto "
        "(moto's request handling stands in for DynamoDB's service time)."
    )
    out.append("")
    out += _table(
        ("path", "handler", "floor", "handler / floor", "crypto only", "client: handler / floor"),
        [
            (
                r.path,
                _ms(r.handler_ms),
                _ms(r.floor_ms),
                _x(r.ratio),
                f"{r.crypto_ms:.2f} ms",
                f"{_x(r.client_ratio)} ({r.handler_client_ms:.1f} / {r.floor_client_ms:.1f} ms)",
            )
            for r in results
        ],
    )
    out += ["", "DynamoDB calls per request (the floor, and why it is enough):", ""]
    for base, calls in CALLS.items():
        out.append(f"- **{base}** ({len(calls)}): " + "; ".join(calls))
        out.append(f"  ({REASONS[base]})")
    out += ["", "Observed in this run (operations moto served for a handler call):", ""]
    for r in results:
        drift = " **(not the floor's calls: update bench/floor.py)**" if r.drift else ""
        out.append(f"- {r.path}: {', '.join(r.observed)}{drift}")
    profiled = [r for r in results if r.profile]
    if profiled:
        out += [
            "",
            "### Where the handler's time goes (pyinstrument, self time per call by package)",
            "",
        ]
        totals: dict[str, float] = {}
        for r in profiled:
            assert r.profile
            for name, ms in r.profile.per_package_ms.items():
                totals[name] = totals.get(name, 0.0) + ms
        packages = [
            name
            for name, _ in sorted(totals.items(), key=lambda kv: -kv[1])
            if any(r.profile and r.profile.per_package_ms.get(name, 0.0) >= 0.1 for r in profiled)
        ]
        out += _table(
            ("package", *(r.path for r in profiled)),
            [
                (
                    name,
                    *(
                        f"{r.profile.per_package_ms.get(name, 0.0):.2f}"
                        for r in profiled
                        if r.profile
                    ),
                )
                for name in packages
            ],
        )
        saved = [r.profile.artifact for r in profiled if r.profile and r.profile.artifact]
        if saved:
            out += ["", f"Flame graph of the slowest path: `{saved[0]}` (pyinstrument HTML)."]
    return out


def _cold(cold: ColdStart) -> list[str]:
    out = ["", "## Cold init", ""]
    out.append(
        "As Lambda runs it: a fresh `" + cold.interpreter + "` per run (no virtualenv, no "
        "site-packages, nothing written: `/opt` is read-only), `sys.path` = the function's "
        "folder + both layers extracted into one `python/` folder as the CDK app builds them "
        "(the dependency layer from the lock, for this machine's platform; bytecode as "
        f"shipped: {cold.layers_mb:.1f} MiB extracted, {cold.sources_mb:.1f} MiB of it "
        f"without the bytecode); the handler imported by name. Median of {cold.rounds} "
        "interleaved rounds. Ratios are of CPU time (user + system of the child process: what "
        "a dedicated Lambda vCPU spends; other processes on this machine inflate wall time, "
        "not CPU time): median over rounds of (function / the nearest run of `import "
        "botocore.session` from the same layers, which runs again every few functions). "
        "Every child, the baseline's too, ends with `os._exit` once init and the first "
        "request are done: a Lambda environment is never finalized (the runtime waits for "
        "the next event until the environment is frozen or killed), so interpreter shutdown "
        "(module teardown) is no part of a cold start, neither billed nor waited for. "
        f"Baseline {_ms(cold.baseline_ms)} CPU ({_ms(cold.baseline_wall_ms)} wall); bare "
        f"`python -c pass` {_ms(cold.python_ms)} CPU. No AWS call is made (sockets refused): "
        "a function whose request needs AWS runs its init only."
    )
    if cold.with_teardown:
        out += [
            "",
            "Both yardsticks, measured in the same rounds (the bench counted the whole "
            "process until 2026-12-06, shutdown included; it now stops where Lambda does, "
            "and the target applies to that): the former, whole child process CPU including "
            "interpreter shutdown (baseline "
            f"{_ms(cold.baseline_teardown_ms)}), and the new one, CPU up to the end of init "
            f"and the first request (baseline {_ms(cold.baseline_ms)}), each against "
            "`import botocore.session` measured the same way. Shutdown costs the baseline "
            f"{_ms(cold.baseline_teardown_ms - cold.baseline_ms)}; our functions freeze what "
            "init created (`gc.freeze`), which the shutdown's collections skip, so theirs is "
            "within the rounds' noise (the column is a difference of medians, and may come "
            "out below zero): the new yardstick raises their ratios.",
            "",
        ]
        now = {f.function: f for f in cold.functions}
        out += _table(
            ("function", "whole process", "/ baseline", "init + request", "/ baseline",
             "shutdown"),
            [
                (f.function, _ms(f.cpu_ms), _x(f.ratio), _ms(now[f.function].cpu_ms),
                 _x(now[f.function].ratio), _ms(f.cpu_ms - now[f.function].cpu_ms))
                for f in cold.with_teardown
            ],
        )  # fmt: skip
    out += _stages(cold)
    if cold.no_bytecode:
        out += [
            "",
            "The hot functions on the same layers without bytecode (as shipped before "
            "this change: every cold start compiled every module), against `import "
            f"botocore.session` from those layers ({_ms(cold.baseline_no_bytecode_ms)} CPU):",
            "",
        ]
        shipped = {f.function: f for f in cold.functions}
        out += _table(
            (
                "function",
                "CPU, no bytecode",
                "/ its baseline",
                "CPU, as shipped",
                "/ baseline",
                "saved",
            ),
            [
                (
                    f.function,
                    _ms(f.cpu_ms),
                    _x(f.ratio),
                    _ms(shipped[f.function].cpu_ms),
                    _x(shipped[f.function].ratio),
                    _ms(f.cpu_ms - shipped[f.function].cpu_ms),
                )
                for f in cold.no_bytecode
            ],
        )
    out += [
        "",
        "The hot functions before and after the import cuts (issue 22, item 3: each function "
        "loads its own route's models, the garbage collector runs rarely during init; "
        "before: the run of 2026-12-05 23:08 UTC), both on the former yardstick (whole "
        "process, shutdown included):",
        "",
    ]
    now = {f.function: f for f in cold.with_teardown or cold.functions}
    out += _table(
        ("function", "CPU, before", "/ baseline", "CPU, now", "/ baseline", "saved"),
        [
            (name, _ms(cpu), _x(ratio), _ms(now[name].cpu_ms), _x(now[name].ratio),
             _ms(cpu - now[name].cpu_ms))
            for name, (cpu, ratio) in BEFORE_CUTS.items()
            if name in now
        ],
    )  # fmt: skip
    out.append("")
    out += _table(
        ("function", "CPU", "/ baseline", "wall", "init (import)", "request", "status", "what ran"),
        [
            (
                f.function,
                _ms(f.cpu_ms),
                _x(f.ratio),
                _ms(f.wall_ms),
                _ms(f.init_ms),
                _ms(f.request_ms),
                str(f.status or "-"),
                f.how,
            )
            for f in cold.functions
        ],
    )
    out += ["", f"`-X importtime` of {cold.heaviest} (best of 3), self time by package:", ""]
    out += _table(
        ("package", "self", "first imported by"),
        [(c.package, f"{c.self_ms:.1f} ms", c.imported_by) for c in cold.imports[:15]],
    )
    out += ["", "Our modules by self time (cumulative includes what they import first):", ""]
    out += _table(
        ("module", "self", "cumulative"),
        [(m, f"{own:.1f} ms", f"{total:.1f} ms") for m, own, total in cold.licensing_modules[:12]],
    )
    return out


def _stages(cold: ColdStart) -> list[str]:
    """Where a cold start goes: the cumulative stages of one function's init."""
    if not cold.stages:
        return []
    floor, init = cold.stages[FLOOR_STAGE], cold.stages[-1]
    out = [
        "",
        f"Where a cold start goes: {STAGED}'s init in cumulative stages, each a fresh child "
        "as above (its folder and the layers on `sys.path`, `AWS_LAMBDA_FUNCTION_NAME` set, "
        "`os._exit` at the end) that runs every stage above it and then its own, against a "
        "run of the baseline made right before the stages in the same round (ratio: median "
        "over rounds; marginal: median over rounds of the stage's CPU minus that of the "
        "stage above, run just before it, which noise may put below zero for a cheap "
        "stage; the marginals need not add up to the total). The third-party floor is what our "
        "modules import from the dependency layer (no pydantic: the application routes' "
        "models are plain, `licensing_core.plain`); our modules follow in the order the "
        "handler imports them (each stage brings what it imports first). The last stage is the "
        f"handler's whole init, without the request (init + request: {STAGED}'s row below).",
        "",
    ]
    out += _table(
        ("stage (cumulative)", "CPU", "/ baseline", "marginal"),
        [
            (("+ " if index else "") + s.stage, _ms(s.cpu_ms), _x(s.ratio),
             "-" if index == 0 else f"{s.marginal_ms:+.1f} ms")
            for index, s in enumerate(cold.stages)
        ],
    )  # fmt: skip
    out += [
        "",
        _where_it_goes(floor, init),
    ]
    return out


def with_cold(text: str, cold: ColdStart) -> str:
    """``RESULTS.md`` with its cold-start summary rows and section from ``cold`` and the
    list of changes from :data:`CHANGES`; every other section's figures as they were
    (``python -m bench.coldstart``)."""
    lines = text.splitlines()
    rows = ["| " + " | ".join(row) + " |" for row in summary_rows(Outcome({}, {}, cold=cold))]
    first = next(i for i, line in enumerate(lines) if line.startswith("| cold init |"))
    last = first + 1
    while last < len(lines) and lines[last].startswith("|  |"):
        last += 1
    lines[first:last] = rows
    changes = ["## What was changed in the code because of them", ""]
    for heading, section in (
        (changes[0], [*changes, *(f"- {change}" for change in CHANGES)]),
        ("## Cold init", [*_cold(cold)[1:3], _measured_apart(), "", *_cold(cold)[3:]]),
    ):
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), None)
        lines[start : end or len(lines)] = [*section, ""] if end else section
    return "\n".join(lines) + "\n"


def _measured_apart() -> str:
    found = machine()
    return (
        f"Measured apart from the other sections ({found['date']}, load average "
        f"{found['load average at start (1, 5, 15 min)']} on {found['cores']} cores at start)."
    )


def _contention(race: Contention) -> list[str]:
    out = ["", "## Contention", ""]
    out.append(
        f"{race.racers} racers, {race.trials} trials, one {race.seats}-seat license per trial, "
        "real activate handler against a moto server (one request at a time)."
    )
    out.append("")
    out += _table(
        ("measure", "value"),
        [
            (
                "correct trials (exactly 5 winners, counter == live items == 5)",
                f"{race.correct_trials}/{race.trials}",
            ),
            ("statuses over all trials", ", ".join(f"{k}: {v}" for k, v in race.statuses.items())),
            ("latency p50 / p99, all racers", f"{_ms(race.p50_ms)} / {_ms(race.p99_ms)}"),
            (
                "latency p50 / p99, winners (201)",
                f"{_ms(race.winner_p50_ms)} / {_ms(race.winner_p99_ms)}",
            ),
            (
                "latency p50 / p99, refused (409)",
                f"{_ms(race.loser_p50_ms)} / {_ms(race.loser_p99_ms)}",
            ),
            ("one trial (all racers done), median", _ms(race.trial_ms)),
        ],
    )
    if race.failures:
        out += ["", "Incorrect trials:", ""] + [f"- {f}" for f in race.failures]
    return out


def _costs(outcome: Outcome) -> list[str]:
    assert outcome.sizes is not None
    out = ["", "## Cost model", "", "Assumptions:", ""]
    out += [f"- {a}" for a in cost.ASSUMPTIONS]
    out += [
        "",
        "Item sizes measured (bytes): " + ", ".join(f"{k} {v}" for k, v in outcome.sizes.items()),
        "",
    ]
    out += _table(
        (
            "path",
            "duration",
            "RRU",
            "WRU",
            "Lambda $/1M",
            "DynamoDB $/1M",
            "HTTP API $/1M",
            "total $/1M",
        ),
        [
            (
                r.path,
                f"{r.duration_ms:.1f} ms ({r.duration_basis})",
                f"{r.rru:g}",
                f"{r.wru:g}",
                f"{r.lambda_dollars:.3f}",
                f"{r.dynamodb_dollars:.3f}",
                f"{r.api_dollars:.3f}",
                f"{r.total:.2f}",
            )
            for r in _cost_rows(outcome)
        ],
    )
    if outcome.hot:
        out += ["", "### Levers (priced on today's measured handler, not measured)", ""]
        out += _table(
            ("path", "change", "RRU", "WRU", "total $/1M", "invariants, and why (not) taken"),
            [
                (
                    lever.path,
                    lever.change,
                    f"{lever.rru:.3g}",
                    f"{lever.wru:.3g}",
                    f"{lever.total:.2f}",
                    lever.verdict,
                )
                for lever in cost.levers(outcome.hot, outcome.sizes)
            ],
        )
        out += ["", HEARTBEAT_VERDICT]
    part = cost.partition(outcome.sizes)
    out += ["", "### One license with 10,000 machines heartbeating hourly", ""]
    out += _table(
        ("measure", "value"),
        [
            (
                "activation items under the license's partition key",
                f"{part.activations:,} (+ reclaimed tombstones, kept 30 days)",
            ),
            (
                "item collection size",
                f"{part.item_collection_mb:.1f} MB ({part.activation_item_bytes} B per JWE activation; no LSI, so no 10 GB cap)",
            ),
            ("heartbeats per second on that key", f"{part.heartbeats_per_second:.2f}"),
            (
                "WCU/s on the activations partition key",
                f"{part.activations_key_wcu:.1f} of {cost.PARTITION_WCU} ({part.activations_key_wcu / cost.PARTITION_WCU:.1%})",
            ),
            (
                "RCU/s on the activations partition key",
                f"{part.activations_key_rcu:.1f} of {cost.PARTITION_RCU}",
            ),
            (
                "RCU/s on the license item (TransactGetItems + ConditionCheck)",
                f"{part.license_item_rcu:.1f} of {cost.PARTITION_RCU}",
            ),
            (
                "machines one license can hold at hourly heartbeats before a partition limit",
                f"{part.max_activations_per_license:,}",
            ),
            (
                "a full license: each refused activation's dead-seat scan (Query of every activation)",
                f"{part.full_license_reclaim_query_rru:,.0f} RRU, {part.full_license_reclaim_pages} page(s) of 1 MB",
            ),
        ],
    )
    return out


HEARTBEAT_VERDICT = (
    "Why the heartbeat target (<= $2 per 1M) is not met: the HTTP API ($1.00) and the "
    "renewing transaction's update of the activation (2 WRU, $1.25) are already $2.25, "
    'before Lambda and reads. That transaction is what keeps "no token is issued for a '
    "license that is not active at the moment of the issuing write (a revoke racing a "
    'heartbeat wins)" and the dead-seat rule (dead = no recorded heartbeat for a token '
    "lifetime): only sparse writes reach $2, and they give up both. The safe levers "
    "together stop short of it; with the KMS signer every token also costs a KMS Sign."
)


def _where_it_goes(floor: StageCost, init: StageCost) -> str:
    """The stage table's conclusion, from its figures: how much of the init is the
    stack's floor, how much our own modules."""
    ours = f"{init.ratio - floor.ratio:.2f}x ({_ms(init.cpu_ms - floor.cpu_ms)})"
    stack = f"the third-party imports alone are {_x(floor.ratio)}; our own modules add {ours}."
    if floor.ratio > COLD_TARGET:
        return (
            f"So the target (<= {COLD_TARGET:g}x) is below the floor of the stack as used: "
            f"{stack} What would remove the rest: SnapStart, on Python 3.12+ runtimes only, "
            "which restores a snapshot of the initialized function instead of running init."
        )
    return (
        f"So the stack leaves room under the target (<= {COLD_TARGET:g}x): {stack} "
        f"At most {COLD_TARGET - floor.ratio:.2f}x of our own import cost fits; past that, "
        "SnapStart on Python 3.12+."
    )
