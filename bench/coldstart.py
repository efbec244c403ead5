"""Cold init of every function as Lambda runs it: a fresh ``python3.11 -I -S -B`` per run
(the base interpreter, no virtualenv, no site-packages, nothing written, as ``/opt`` and
``/var/task`` are read-only), ``sys.path`` = the function's folder + both layers extracted
into one ``python/`` folder the way the CDK app builds them (``cdk.bundling``: the
dependency layer from the lock, for this machine's platform, and bytecode as shipped).
The handler is imported by name and answers one request when it can without AWS; CPU
time (user + system, which other processes on the machine barely disturb; wall time is
reported too) is divided by that of ``import botocore.session`` from the same layers,
measured in the same rounds. The hot functions also run on a copy of the layers without
bytecode (what shipped before), against ``import botocore.session`` from that copy.

Every child, the baseline's too, ends with ``os._exit`` once its work is done, as a
Lambda environment never finalizes its interpreter (it is frozen, then killed): CPU time
is that of init and the first request. The hot functions and the baseline also run the
former way, exiting normally (interpreter shutdown included), so both yardsticks show.

Where a cold start goes: heartbeat's init in cumulative stages (:data:`STAGES`), each a
fresh child that runs what the stages before it ran and then its own: the third-party
floor (what our modules import from the dependency layer: no pydantic, the application
routes' models are plain), then our modules in the order the handler pulls them in, each
against a run of the baseline made right before the stages.

Rounds are interleaved (every function, the references and the stages once per round, in
a rotating order), and each ratio is the median of the per-round ratios.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from bench.support import (
    FUNCTIONS,
    ISSUER,
    ROOT,
    api_event,
    bench_environment,
    function_names,
    isolated_environment,
    median,
)
from cdk.bundling import extract_opt
from cdk.layers import RUNTIME_ENVIRONMENT

CHILD = Path(__file__).resolve().parent / "coldchild.py"
BASELINE = "import botocore.session"
#: The functions every cold start of an application hits (and the target applies to).
HOT = ("heartbeat", "validate_license", "activate")
NO_BYTECODE = " (no bytecode)"
#: The former yardstick: the child exits normally, interpreter shutdown included.
WITH_TEARDOWN = " (with teardown)"
#: Ends a child as Lambda ends an environment: no interpreter shutdown.
EXIT_AS_LAMBDA = "import os; os._exit(0)"
#: The hot functions before the import cuts of issue 22 (item 3), from the run of
#: 2026-12-05 23:08 UTC of this bench (bytecode as shipped): CPU ms and / baseline.
BEFORE_CUTS = {
    "heartbeat": (427.6, 2.32),
    "validate_license": (405.6, 2.21),
    "activate": (470.4, 2.31),
}
VARIANTS = (NO_BYTECODE, WITH_TEARDOWN)
#: The function whose init the stages decompose, and the stages: (what a stage adds, the
#: code it runs after that of every stage above it). Chosen from ``-X importtime`` of its
#: cold start: the third-party modules our modules import, then our modules in import
#: order, up to the handler.
STAGED = "heartbeat"
STAGES: tuple[tuple[str, str], ...] = (
    (
        "pynamodb, cryptography (RSA), powertools: the third-party floor",
        "import pynamodb.models, pynamodb.transactions, aws_lambda_powertools\n"
        "import cryptography.hazmat.primitives.serialization\n"
        "import cryptography.hazmat.primitives.asymmetric.padding",
    ),
    *(
        (module, f"import {module}")
        for module in (
            "licensing_core.plain",
            "licensing_core.settings",
            "licensing_core.telemetry",
            "licensing_core.store.models",
            "licensing_core.routes",
            "licensing_core.http.endpoint",
            "licensing_core.schemas.machines",
            "licensing_core.tokens.signer",
            "licensing_core.services.licenses",
            "licensing_core.services.activations",
        )
    ),
    ("handler: the whole init", "import handler"),
)
#: In :attr:`ColdStart.stages` (the baseline first): the third-party floor.
FLOOR_STAGE = 1
#: The job that runs the baseline and every stage, once per round.
STAGES_JOB = "stages"
#: The baseline runs again before every this many functions.
BASELINE_EVERY = 6
#: Guards: at most one attempt per AWS call, should a request try one anyway.
NO_RETRIES = {"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}


@dataclass(frozen=True)
class LambdaLike:
    """Both layers extracted as Lambda does, and the interpreter that runs them."""

    opt_python: Path
    #: The base interpreter (``python3.11``), never the virtualenv's.
    python: str = getattr(sys, "_base_executable", sys.executable)

    @classmethod
    def extract(cls, target: Path) -> LambdaLike:
        """Build (or reuse from ``.build/``) both layers and merge them under ``target``."""
        return cls(extract_opt(target))

    def without_bytecode(self, target: Path) -> LambdaLike:
        """A copy of the layers with every ``__pycache__`` left out (as shipped before)."""
        copy = target / "python"
        shutil.copytree(self.opt_python, copy, ignore=shutil.ignore_patterns("__pycache__"))
        return LambdaLike(copy, self.python)

    def interpreter(self, *options: str) -> list[str]:
        return [self.python, "-I", "-S", "-B", *options]

    def function(self, name: str, *options: str, finalize: bool = False) -> list[str]:
        """The command of one cold start of ``functions/<name>`` (event on stdin); with
        ``finalize`` the child exits normally (interpreter shutdown included)."""
        return [
            *self.interpreter(*options),
            str(CHILD),
            str(FUNCTIONS / name),
            str(self.opt_python),
            *(["--finalize"] if finalize else []),
        ]

    def importing(self, module: str, *, finalize: bool = False) -> list[str]:
        """The command that imports ``module`` from the layers, and nothing else; then
        ends as a Lambda environment does, or normally with ``finalize``."""
        return self.running(f"import {module}", finalize=finalize)

    def running(self, code: str, *, function: str = "", finalize: bool = False) -> list[str]:
        """The command that runs ``code`` with the layers (and ``functions/<function>``)
        on ``sys.path``; then ends as a Lambda environment does, or normally."""
        path = [str(FUNCTIONS / function)] if function else []
        code = f"import sys; sys.path[:0] = {[*path, str(self.opt_python)]!r}\n{code}"
        return [*self.interpreter(), "-c", code if finalize else f"{code}\n{EXIT_AS_LAMBDA}"]

    def size_mb(self, bytecode: bool = True) -> float:
        files = [
            path
            for path in self.opt_python.rglob("*")
            if path.is_file() and (bytecode or path.suffix != ".pyc")
        ]
        return sum(path.stat().st_size for path in files) / 2**20


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
class StageCost:
    """One cumulative stage of a cold start: CPU median, its median ratio to the baseline
    run before it in the same round, and what it adds to the stage above (median over
    rounds of the difference to the stage run just before it; within the rounds' noise of
    zero for a cheap stage, and the marginals need not add up to the total)."""

    stage: str
    cpu_ms: float
    ratio: float
    marginal_ms: float


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
    interpreter: str = ""
    #: Both layers extracted, MiB: with bytecode, and their sources alone
    layers_mb: float = 0.0
    sources_mb: float = 0.0
    #: Without bytecode (as shipped before): baseline CPU, and the hot functions' results
    #: (ratio against the baseline from the same bytecode-less layers)
    baseline_no_bytecode_ms: float = 0.0
    no_bytecode: list[ColdResult] = field(default_factory=list)
    #: The former yardstick (interpreter shutdown included): baseline CPU, hot functions
    baseline_teardown_ms: float = 0.0
    with_teardown: list[ColdResult] = field(default_factory=list)
    imports: list[ImportCost] = field(default_factory=list)
    #: our modules: (name, self ms, cumulative ms), by self time
    licensing_modules: list[tuple[str, float, float]] = field(default_factory=list)
    #: :data:`STAGED`'s init in cumulative stages, the baseline first
    stages: list[StageCost] = field(default_factory=list)


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
        # the required fields: optional ones never decide what a request needs
        schema = TypeAdapter(route.request).json_schema(by_alias=False) if route.request else {}
        fields = set(schema.get("required", ()))
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


def _variant(job: str) -> str:
    """The suffix of a job that runs a hot function another way ("" for none)."""
    return next((suffix for suffix in VARIANTS if job.endswith(suffix)), "")


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
    command: list[str], env: dict[str, str], repeats: int
) -> list[list[tuple[int, float, float, str]]]:
    """``-X importtime`` of a cold start: (depth, self s, cumulative s, module) per import."""
    runs = []
    for _ in range(repeats):
        done = subprocess.run(  # noqa: S603
            command, input="", env=env, capture_output=True, text=True, cwd=ROOT, check=True
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
        env = bench_environment(Path(data_dir), **NO_RETRIES, **RUNTIME_ENVIRONMENT)
        log("  extracting both layers (the dependency layer from the lock, cached in .build/)")
        shipped = LambdaLike.extract(Path(data_dir) / "opt")
        before = shipped.without_bytecode(Path(data_dir) / "opt-no-bytecode")
        commands: dict[str, tuple[list[str], str]] = {
            "python": ([*shipped.interpreter(), "-c", EXIT_AS_LAMBDA], ""),
            "baseline": (shipped.importing(BASELINE.split()[-1]), ""),
            "baseline" + NO_BYTECODE: (before.importing(BASELINE.split()[-1]), ""),
            "baseline" + WITH_TEARDOWN: (
                shipped.importing(BASELINE.split()[-1], finalize=True),
                "",
            ),
        }
        by_name = {plan.function: plan for plan in planned}
        for plan in planned:
            stdin = json.dumps(plan.event) if plan.event is not None else ""
            commands[plan.function] = (shipped.function(plan.function), stdin)
            if plan.function in HOT:
                commands[plan.function + NO_BYTECODE] = (before.function(plan.function), stdin)
                commands[plan.function + WITH_TEARDOWN] = (
                    shipped.function(plan.function, finalize=True),
                    stdin,
                )
        staged = [  # the baseline, then each stage: the code of every stage above, its own
            commands["baseline"][0],
            *(
                shipped.running(code, function=STAGED)
                for code in accumulate(f"{adds}\n" for _, adds in STAGES)
            ),
        ]
        # the handler's environment as Lambda sets it (the child sets it for the functions)
        staged_env = {**env, "AWS_LAMBDA_FUNCTION_NAME": STAGED}
        for warm in ("baseline", "heartbeat"):  # fill the OS file cache, untimed
            if warm in commands:
                _run(commands[warm][0], env, commands[warm][1])
        walls: dict[str, list[float]] = defaultdict(list)
        cpus: dict[str, list[float]] = defaultdict(list)
        #: per job and round: its CPU time over the nearest baseline run's
        scaled: dict[str, list[float]] = defaultdict(list)
        reports: dict[str, list[dict[str, Any]]] = defaultdict(list)

        def timed(job: str) -> tuple[float, float, dict[str, Any]]:
            command, stdin = commands[job]
            wall, cpu, report = _run(command, env, stdin)
            function = job.removesuffix(_variant(job))
            if (report.get("aws") or report.get("error")) and function in by_name:
                # needed AWS after all: init only, from now on
                by_name[function] = Plan(function, "init only (its request needs AWS)", None)
                for name in (function, function + NO_BYTECODE, function + WITH_TEARDOWN):
                    if name in commands:
                        commands[name] = (commands[name][0], "")
                wall, cpu, report = _run(commands[job][0], env)
            return wall, cpu, report

        #: per stage (the baseline first) and round: CPU, and CPU over the baseline's
        stage_cpus: list[list[float]] = [[] for _ in staged]
        stage_scaled: list[list[float]] = [[] for _ in staged]
        #: per stage and round: CPU minus that of the stage above, run just before it
        stage_added: list[list[float]] = [[] for _ in staged]

        def run_stages() -> float:
            """The baseline, then every stage; returns the baseline's CPU."""
            measured = [_run(command, staged_env)[1] for command in staged]
            for index, cpu in enumerate(measured):
                stage_cpus[index].append(cpu)
                stage_scaled[index].append(cpu / measured[0])
                stage_added[index].append(cpu - measured[max(index - 1, 0)])
            return measured[0]

        # Jobs rotate from round to round, and the baseline runs again every few jobs, so
        # that each ratio compares runs seconds apart even while the machine's load drifts;
        # a job without bytecode (or with teardown) runs right after the baseline so made,
        # and so do the stages (one job).
        variants = [name + suffix for suffix in VARIANTS for name in HOT if name in by_name]
        jobs = ["python", *by_name, *variants, STAGES_JOB]
        log(
            f"  {len(by_name)} functions (+{len(variants)} without bytecode or with "
            f"teardown), {1 + len(VARIANTS)} references, {len(STAGES)} stages of {STAGED} "
            f"x {rounds} rounds, "
            f"{shipped.python} -I -S -B"
        )
        for round_index in range(rounds):
            shift = round_index * 5 % len(jobs)
            baseline = 0.0
            for position, job in enumerate(jobs[shift:] + jobs[:shift]):
                if job == STAGES_JOB:
                    baseline = run_stages()
                    continue
                reference = "baseline" + _variant(job)
                if position % BASELINE_EVERY == 0 or reference != "baseline":
                    wall, reference_cpu, _ = _run(commands[reference][0], env)
                    walls[reference].append(wall)
                    cpus[reference].append(reference_cpu)
                    if reference == "baseline":
                        baseline = reference_cpu
                wall, cpu, report = timed(job)
                walls[job].append(wall)
                cpus[job].append(cpu)
                scaled[job].append(cpu / (baseline if reference == "baseline" else reference_cpu))
                reports[job].append(report)

        def result(job: str) -> ColdResult:
            function = job.removesuffix(_variant(job))
            requests = [r["request_s"] for r in reports[job] if "request_s" in r]
            statuses = {r.get("status") for r in reports[job]}
            return ColdResult(
                function=function,
                how=by_name[function].how,
                wall_ms=median(walls[job]) * 1e3,
                cpu_ms=median(cpus[job]) * 1e3,
                init_ms=median([r["init_s"] for r in reports[job]]) * 1e3,
                request_ms=median(requests) * 1e3 if requests else None,
                status=statuses.pop() if len(statuses) == 1 else None,
                ratio=median(scaled[job]),
            )

        results = sorted((result(function) for function in by_name), key=lambda r: -r.cpu_ms)
        stages = [
            StageCost(stage, median(found) * 1e3, median(ratios), median(added) * 1e3)
            for stage, found, ratios, added in zip(
                [BASELINE, *(stage for stage, _ in STAGES)],
                stage_cpus,
                stage_scaled,
                stage_added,
                strict=True,
            )
        ]
        heaviest = results[0].function
        log(f"  -X importtime of {heaviest}")
        costs, modules = _import_costs(
            _importtime(shipped.function(heaviest, "-X", "importtime"), env, 3)
        )
        return ColdStart(
            rounds=rounds,
            python_ms=median(cpus["python"]) * 1e3,
            baseline_ms=median(cpus["baseline"]) * 1e3,
            baseline_wall_ms=median(walls["baseline"]) * 1e3,
            functions=results,
            heaviest=heaviest,
            imports=costs,
            licensing_modules=modules,
            interpreter=f"{shipped.python} -I -S -B",
            layers_mb=shipped.size_mb(),
            sources_mb=shipped.size_mb(bytecode=False),
            baseline_no_bytecode_ms=median(cpus["baseline" + NO_BYTECODE]) * 1e3,
            no_bytecode=[result(name + NO_BYTECODE) for name in HOT if name in by_name],
            baseline_teardown_ms=median(cpus["baseline" + WITH_TEARDOWN]) * 1e3,
            with_teardown=[result(name + WITH_TEARDOWN) for name in HOT if name in by_name],
            stages=stages,
        )


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.coldstart``: this section alone, written into ``RESULTS.md``."""
    import argparse

    from bench import report

    parser = argparse.ArgumentParser(prog="python -m bench.coldstart", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--no-write", action="store_true", help="print, leave RESULTS.md")
    args = parser.parse_args(argv)
    cold = run(args.rounds)
    results = Path(__file__).resolve().parent / "RESULTS.md"
    updated = report.with_cold(results.read_text(), cold)
    print("\n".join(report._cold(cold)))
    if not args.no_write:
        results.write_text(updated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
