"""Cold init of every function: a fresh interpreter per run (the venv's python, the
bench environment, no AWS call) imports the handler by path and answers one request
when it can without AWS; its CPU time (user + system, which other processes on the
machine barely disturb; wall time is reported too) is divided by that of
``python -c "import botocore.session"`` measured in the same rounds.

Rounds are interleaved (every function and the references once per round, in a
rotating order), and each ratio is the median of the per-round ratios.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.support import (
    ISSUER,
    ROOT,
    api_event,
    bench_environment,
    function_names,
    isolated_environment,
    median,
)

CHILD = Path(__file__).resolve().parent / "coldchild.py"
BASELINE = "import botocore.session"
#: The baseline runs again before every this many functions.
BASELINE_EVERY = 6
#: Guards: at most one attempt per AWS call, should a request try one anyway.
NO_RETRIES = {"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}


@dataclass(frozen=True)
class Plan:
    function: str
    how: str
    event: dict[str, Any] | None


@dataclass
class ColdResult:
    function: str
    how: str
    wall_ms: float
    cpu_ms: float
    init_ms: float
    request_ms: float | None
    status: int | None
    ratio: float


@dataclass
class ImportCost:
    package: str
    self_ms: float
    imported_by: str


@dataclass
class ColdStart:
    rounds: int
    #: CPU (user + system) medians, the basis of every ratio
    python_ms: float
    baseline_ms: float
    baseline_wall_ms: float
    functions: list[ColdResult]
    heaviest: str
    imports: list[ImportCost] = field(default_factory=list)
    #: our modules: (name, self ms, cumulative ms), by self time
    licensing_modules: list[tuple[str, float, float]] = field(default_factory=list)


def _expired_key() -> str:
    """A license key signed with the bench key but expired: verification runs fully
    (signer loaded, RSA verified) and refuses it before any storage read."""
    from licensing_core.tokens.jws import sign_compact
    from licensing_core.tokens.signer import get_signer

    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "lic_cold",
        "aud": "Bench.App",
        "iat": now - 7200,
        "nbf": now - 7200,
        "exp": now - 3600,
        "customer": "cus_cold",
        "gen": 1,
    }
    return sign_compact(claims, typ="license+jwt", signer=get_signer())


def plans(expired_key: str) -> list[Plan]:
    """What each function's cold run does: a request it answers without AWS (refused
    before storage, for most), else its init only."""
    from licensing_core.routes import Access, route_for

    found = []
    for function in function_names():
        try:
            route = route_for(function)
        except KeyError:
            found.append(Plan(function, "init only (not an HTTP route: its events need AWS)", None))
            continue
        path = re.sub(r"\{[A-Za-z]+\}", "x1", route.path)
        fields = {  # the required ones: optional fields never decide what a request needs
            name
            for name, field in (route.request.model_fields if route.request else {}).items()
            if field.is_required()
        }
        if route.access in (Access.ADMIN, Access.END_USER):
            how, body = "request: 401 without a bearer (before storage)", None
        elif fields in ({"key_token"}, {"key_token", "machine_id"}):
            how = "request: expired key, RS256 verified, refused before storage"
            body = (
                {"keyToken": expired_key, "machineId": "cold"}
                if "machine_id" in fields
                else {"keyToken": expired_key}
            )
        elif fields == {"client_id"}:
            how, body = (
                "request: malformed clientId, refused before storage",
                {"clientId": "lic_x.y"},
            )
        elif route.request is not None:
            how, body = "request: empty body, 422 (before storage)", {}
        elif not route.tables and getattr(route, "identity_provider", None) is None:
            how, body = "request: full answer (needs no AWS)", None
        else:
            found.append(Plan(function, "init only (its request reads DynamoDB)", None))
            continue
        found.append(Plan(function, how, api_event(route.method, path, body)))
    return found


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(
    command: list[str], env: dict[str, str], stdin: str = ""
) -> tuple[float, float, dict[str, Any]]:
    """Wall and CPU (user + system) seconds of one child process, and its JSON report."""
    cpu = _cpu()
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        command, input=stdin, env=env, capture_output=True, text=True, cwd=ROOT, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed: {done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return wall, _cpu() - cpu, report


def _importtime(
    function: str, env: dict[str, str], repeats: int
) -> list[list[tuple[int, float, float, str]]]:
    """``python -X importtime`` of a function's init: (depth, self s, cumulative s, module)."""
    runs = []
    for _ in range(repeats):
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-X", "importtime", str(CHILD), function],
            input="",
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        rows = []
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            parts = line[len("import time:") :].split("|")
            self_us, cumulative_us, name = parts[0], parts[1], parts[2]
            depth = (len(name) - len(name.lstrip(" "))) // 2
            rows.append((depth, int(self_us) / 1e6, int(cumulative_us) / 1e6, name.strip()))
        runs.append(rows)
    return runs


def _import_costs(
    runs: list[list[tuple[int, float, float, str]]],
) -> tuple[list[ImportCost], list[tuple[str, float, float]]]:
    """Self time by top-level package (min over runs), with the module of our own code
    that first pulls each package in; and our modules' cumulative times."""
    best: dict[str, float] = {}
    importer: dict[str, str] = {}
    ours: dict[str, float] = {}
    ours_self: dict[str, float] = {}
    for rows in runs:
        totals: dict[str, float] = defaultdict(float)
        for index, (depth, own, cumulative, name) in enumerate(rows):
            package = name.split(".")[0]
            totals[package] += own
            if package == "licensing_core":
                ours[name] = min(ours.get(name, cumulative), cumulative)
                ours_self[name] = min(ours_self.get(name, own), own)
            elif package not in importer:
                # importtime prints a module after its imports: its ancestors are the
                # later rows of smaller depth; the first of ours is who imported it.
                level = depth
                for later_depth, _, _, later in rows[index + 1 :]:
                    if later_depth < level:
                        level = later_depth
                        if later.startswith("licensing_core") or level == 0:
                            importer[package] = later
                            break
        for package, total in totals.items():
            best[package] = min(best.get(package, total), total)
    costs = [
        ImportCost(package, seconds * 1e3, importer.get(package, "-"))
        for package, seconds in sorted(best.items(), key=lambda kv: -kv[1])
    ]
    modules = sorted(
        ((name, ours_self[name] * 1e3, ours[name] * 1e3) for name in ours), key=lambda m: -m[1]
    )
    return costs, modules


def run(rounds: int, *, log: Callable[[str], None] = print) -> ColdStart:
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as data_dir:
        with isolated_environment(Path(data_dir)):
            expired = _expired_key()  # also creates the signing key the children load
            planned = plans(expired)
        env = bench_environment(Path(data_dir), **NO_RETRIES)
        python = [sys.executable]
        commands: dict[str, tuple[list[str], str]] = {
            "python": ([*python, "-c", "pass"], ""),
            "baseline": ([*python, "-c", BASELINE], ""),
        }
        by_name = {plan.function: plan for plan in planned}
        for plan in planned:
            stdin = json.dumps(plan.event) if plan.event is not None else ""
            commands[plan.function] = ([*python, str(CHILD), plan.function], stdin)
        for warm in ("baseline", "heartbeat"):  # fill the OS file cache, untimed
            if warm in commands:
                _run(commands[warm][0], env, commands[warm][1])
        walls: dict[str, list[float]] = defaultdict(list)
        cpus: dict[str, list[float]] = defaultdict(list)
        #: per job and round: its CPU time over the nearest baseline run's
        scaled: dict[str, list[float]] = defaultdict(list)
        reports: dict[str, list[dict[str, Any]]] = defaultdict(list)
        # Jobs rotate from round to round, and the baseline runs again every few jobs, so
        # that each ratio compares runs seconds apart even while the machine's load drifts.
        jobs = ["python", *by_name]
        log(f"  {len(by_name)} functions, 2 references x {rounds} rounds")
        for round_index in range(rounds):
            shift = round_index * 5 % len(jobs)
            baseline = 0.0
            for position, job in enumerate(jobs[shift:] + jobs[:shift]):
                if position % BASELINE_EVERY == 0:
                    wall, baseline, _ = _run(commands["baseline"][0], env)
                    walls["baseline"].append(wall)
                    cpus["baseline"].append(baseline)
                command, stdin = commands[job]
                wall, cpu, report = _run(command, env, stdin)
                if report.get("aws") and job in by_name:  # needed AWS after all: init only
                    by_name[job] = Plan(job, "init only (its request needs AWS)", None)
                    commands[job] = ([*python, str(CHILD), job], "")
                    wall, cpu, report = _run(commands[job][0], env)
                walls[job].append(wall)
                cpus[job].append(cpu)
                scaled[job].append(cpu / baseline)
                reports[job].append(report)

        results = []
        for function, plan in by_name.items():
            requests = [r["request_s"] for r in reports[function] if "request_s" in r]
            statuses = {r.get("status") for r in reports[function]}
            results.append(
                ColdResult(
                    function=function,
                    how=plan.how,
                    wall_ms=median(walls[function]) * 1e3,
                    cpu_ms=median(cpus[function]) * 1e3,
                    init_ms=median([r["init_s"] for r in reports[function]]) * 1e3,
                    request_ms=median(requests) * 1e3 if requests else None,
                    status=statuses.pop() if len(statuses) == 1 else None,
                    ratio=median(scaled[function]),
                )
            )
        results.sort(key=lambda r: -r.cpu_ms)
        heaviest = results[0].function
        log(f"  python -X importtime of {heaviest}")
        costs, modules = _import_costs(_importtime(heaviest, env, 3))
    return ColdStart(
        rounds=rounds,
        python_ms=median(cpus["python"]) * 1e3,
        baseline_ms=median(cpus["baseline"]) * 1e3,
        baseline_wall_ms=median(walls["baseline"]) * 1e3,
        functions=results,
        heaviest=heaviest,
        imports=costs,
        licensing_modules=modules,
    )
