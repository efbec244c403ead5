"""The client SDK's figures, from ``bench/sdk_verify.py`` (written alongside these
benchmarks): first verification vs PyJWT, and feature checks in ns/op."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.support import ROOT

SCRIPT = Path(__file__).resolve().parent / "sdk_verify.py"


@dataclass
class Sdk:
    ran: bool
    note: str
    output: str = ""
    seconds: float = 0.0
    #: row name -> speed-up over PyJWT (parsed from the script's table)
    speedups: dict[str, float] = field(default_factory=dict)
    #: gate -> net ns/op
    gates: dict[str, float] = field(default_factory=dict)


def run(quick: bool) -> Sdk:
    if not SCRIPT.exists():
        return Sdk(False, "skipped: bench/sdk_verify.py does not exist (yet)")
    args = ["--tokens", "60", "--rounds", "2"] if quick else []
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return Sdk(False, f"failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    result = Sdk(True, f"python bench/sdk_verify.py {' '.join(args)}".strip(), done.stdout, seconds)
    section = ""
    for line in done.stdout.splitlines():
        if "speed-up" in line or "ns/op" in line:
            section = "speed" if "speed-up" in line else "gates"
            continue
        parts = line.rsplit(None, 3)
        try:
            if section == "speed" and line.rstrip().endswith("x") and len(parts) == 4:
                result.speedups[parts[0].strip()] = float(parts[3].rstrip("x"))
            elif section == "gates" and len(parts) >= 3 and not line.startswith("("):
                result.gates[parts[0].strip()] = float(parts[-1])
        except ValueError:
            continue
    return result
