"""In Lambda, the garbage collector runs rarely while a function initializes, and as
usual once its handler module is loaded (what init created frozen); elsewhere (tests,
the local server) importing the layer leaves the collector alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from licensing_core.telemetry import INIT_GC_THRESHOLDS

from tests.support import ROOT

LAYER = ROOT / "layers" / "licensing_core" / "python"
PROBE = """
import gc, importlib.util, json, sys
sys.path[:0] = [{layer!r}]
before = gc.get_threshold()
import licensing_core
during = gc.get_threshold()
spec = importlib.util.spec_from_file_location("handler", {handler!r})
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps([before, during, gc.get_threshold(), gc.get_freeze_count()]))
"""


def _probe(**env: str) -> list[object]:
    code = PROBE.format(layer=str(LAYER), handler=str(ROOT / "functions/heartbeat/handler.py"))
    clean = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_FUNCTION_NAME"}
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
        check=True, cwd=ROOT,
    )  # fmt: skip
    result: list[object] = json.loads(done.stdout)
    return result


def test_in_lambda_init_collects_rarely_then_as_usual_with_init_frozen() -> None:
    before, during, after, frozen = _probe(AWS_LAMBDA_FUNCTION_NAME="heartbeat")
    assert during == list(INIT_GC_THRESHOLDS)
    assert after == before
    assert isinstance(frozen, int) and frozen > 10_000


def test_outside_lambda_the_collector_is_left_alone() -> None:
    before, during, after, frozen = _probe()
    assert before == during == after
    assert frozen == 0
