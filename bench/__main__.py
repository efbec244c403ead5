"""``python -m bench``: every benchmark with its defaults, one table, ``bench/RESULTS.md``.

python -m bench                 # defaults: under 10 minutes on a 2-core machine
python -m bench --quick         # a smoke run: fewer iterations, rounds and trials
python -m bench --trials 1000   # the long contention run
python -m bench --only hot,cost # some sections only (hot, cold, contention, sdk, local, search)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import report
from bench.support import ROOT

SECTIONS = ("hot", "cold", "contention", "sdk", "local", "search")
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


class _Discard(io.TextIOBase):
    """Where the handlers' own stdout goes during a run (CloudWatch EMF metrics, logs):
    they still format and write it, as in Lambda; the terminal keeps the table."""

    def write(self, text: str) -> int:
        return len(text)


def _log(message: str) -> None:
    print(message, file=sys.__stdout__, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (figures are rough)")
    parser.add_argument(
        "--trials", type=int, default=None, help="contention trials (default 20; 5 with --quick)"
    )
    parser.add_argument(
        "--racers", type=int, default=50, help="concurrent activations per trial (default 50)"
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="timed iterations per hot-path variant (default 200; 30 with --quick)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="cold-start rounds per function (default 7; 3 with --quick)",
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections among {', '.join(SECTIONS)}",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="print the table without writing bench/RESULTS.md or the profile artifact",
    )
    args = parser.parse_args(argv)

    quick = args.quick
    iterations = args.iterations or (30 if quick else 200)
    warmup = max(5, iterations // 10)
    rounds = args.rounds or (3 if quick else 7)
    trials = args.trials or (5 if quick else 20)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    outcome = report.Outcome(
        settings={
            "iterations": iterations,
            "warmup": warmup,
            "cold rounds": rounds,
            "racers": args.racers,
            "trials": trials,
            "quick": quick,
        },
        machine=report.machine(),
    )

    def section(name: str, work: Callable[[], Any]) -> Any:
        if name not in only:
            return None
        _log(f"[{name}]")
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(_Discard()):
                return work()
        except Exception:
            outcome.errors[name] = traceback.format_exc()
            _log(f"  failed: {outcome.errors[name].splitlines()[-1]}")
            return None
        finally:
            outcome.seconds[name] = time.perf_counter() - started
            _log(f"  {outcome.seconds[name]:.0f} s")

    from bench import coldstart, contention, hotpaths, local_server, sdk, search

    hot = section(
        "hot",
        lambda: hotpaths.run(
            iterations,
            warmup,
            profile_calls=10 if quick else 40,
            save_profile=not args.no_write,
            log=_log,
        ),
    )
    if hot is not None:
        outcome.hot, outcome.sizes = hot
    outcome.cold = section("cold", lambda: coldstart.run(rounds, log=_log))
    outcome.contention = section(
        "contention", lambda: contention.run(args.racers, trials, log=_log)
    )
    outcome.sdk = section("sdk", lambda: sdk.run(quick))
    outcome.local = section(
        "local",
        lambda: local_server.run(
            (1_000,) if quick else local_server.WRITES,
            10_000 if quick else local_server.AUDIT_RECORDS,
            iterations,
            log=_log,
        ),
    )

    outcome.search = section(
        "search",
        lambda: search.run(search.QUICK_LICENSES if quick else search.LICENSES, log=_log),
    )

    print()
    report.print_table(outcome)
    total = sum(outcome.seconds.values())
    if not args.no_write:
        if outcome.local and not quick:
            outcome.local.save()
        if outcome.search and not quick:
            outcome.search.save()
        RESULTS.write_text(report.markdown(outcome))
        print(f"\nwritten: {RESULTS.relative_to(ROOT)} ({total:.0f} s in all)")
    else:
        print(f"\n{total:.0f} s in all")
    return 1 if outcome.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
