"""In Lambda, the garbage collector runs rarely while a function initializes, and as
usual once its handler module is loaded (what init created frozen) or, for a function
that is no HTTP route (jobs, consumers, triggers), once its first invocation enters
``telemetry.flushing``; elsewhere (tests, the local server) importing the layer leaves
the collector alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
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
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
{invoke}
print(json.dumps([before, during, gc.get_threshold(), gc.get_freeze_count()]))
"""
#: The first invocation of the expiry job, its storage work replaced by an empty report.
INVOKE_JOB = """
loaded = gc.get_threshold()
module.registration.expire_claims = lambda **_: module.registration.ExpiryReport()
module.handler({{}}, None)
assert loaded == during, loaded  # the job's init ends at its first invocation
"""
HANDLERS = sorted(ROOT.glob("functions/*/handler.py"))


def _probe(function: str = "heartbeat", invoke: str = "", **env: str) -> list[object]:
    handler = ROOT / "functions" / function / "handler.py"
    code = PROBE.format(layer=str(LAYER), handler=str(handler), invoke=invoke.format())
    clean = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_FUNCTION_NAME"}
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
        check=True, cwd=ROOT,
    )  # fmt: skip
    result: list[object] = json.loads(done.stdout.splitlines()[-1])
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


def test_a_job_collects_as_usual_from_its_first_invocation_with_init_frozen() -> None:
    before, during, after, frozen = _probe(
        "expire_claims", INVOKE_JOB, AWS_LAMBDA_FUNCTION_NAME="expire_claims"
    )
    assert during == list(INIT_GC_THRESHOLDS)
    assert after == before
    assert isinstance(frozen, int) and frozen > 10_000


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda path: path.parent.name)
def test_every_function_ends_its_init_through_the_endpoint_or_flushing(handler: Path) -> None:
    """An HTTP route goes through ``@endpoint``; any other function runs its invocation
    inside ``telemetry.flushing``, else the collector stays in its init mode for good."""
    source = handler.read_text()
    assert "@endpoint(" in source or "telemetry.flushing(" in source
