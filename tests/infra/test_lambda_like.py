"""Every function imports and answers in a Lambda-like process, before a deploy finds out.

Both layers are built the way the CDK app builds them (``cdk.bundling``: the dependency
layer from the lock, here for this machine's platform, since arm64 wheels cannot load
here; cached under ``.build/layers/<hash>``), extracted into one ``python/`` folder;
each function runs in a fresh ``python3.11 -I -S -B`` whose ``sys.path`` holds only its
folder and that folder (no virtualenv, no site-packages), imports its handler by name and
is called once with a minimal event, every network connection refused. A module missing
from the layers, an AWS call at import time, or a request that fails for another reason
than the refused network fails here.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from licensing_core.routes import CONSUMERS, JOBS, TRIGGERS, route_for

from bench.coldstart import LambdaLike
from bench.support import FUNCTIONS, LAYER, api_event, bench_environment

#: A Cognito trigger source per trigger operation (the events the pool sends).
TRIGGER_SOURCES = {
    "post_confirmation": "PostConfirmation_ConfirmSignUp",
    "pre_token_generation": "TokenGeneration_Authentication",
    "post_authentication": "PostAuthentication_Authentication",
}


def minimal_event(function: str) -> dict[str, Any]:
    """The smallest event of the kind the function is wired to."""
    if any(job.function == function for job in JOBS):
        return {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    if any(consumer.function == function for consumer in CONSUMERS):
        return {"Records": []}
    trigger = next((trigger for trigger in TRIGGERS if trigger.function == function), None)
    if trigger is not None:
        return {
            "version": "1",
            "triggerSource": TRIGGER_SOURCES[trigger.operation],
            "userPoolId": "us-east-1_cold",
            "userName": "cold",
            "request": {"userAttributes": {"sub": "cold", "email": "not an address"}},
            "response": {},
        }
    route = route_for(function)  # KeyError: a function folder nothing declares
    path = re.sub(r"\{[A-Za-z]+\}", "x1", route.path)
    return api_event(route.method, path, {} if route.request else None)


@pytest.fixture(scope="session")
def lambda_like(tmp_path_factory: pytest.TempPathFactory) -> LambdaLike:
    return LambdaLike.extract(tmp_path_factory.mktemp("opt"))


def _cold_start(lambda_like: LambdaLike, function: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        lambda_like.function(function),
        input=json.dumps(minimal_event(function)),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1]) if done.returncode == 0 and lines else {}
    report["stderr"] = done.stderr[-3000:]
    return report


def test_every_function_imports_and_answers_in_a_lambda_like_process(
    lambda_like: LambdaLike, tmp_path: Path
) -> None:
    functions = sorted(path.parent.name for path in FUNCTIONS.glob("*/handler.py"))
    env = bench_environment(tmp_path, AWS_MAX_ATTEMPTS="1", AWS_RETRY_MODE="standard")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        reports = dict(
            zip(
                functions,
                pool.map(lambda function: _cold_start(lambda_like, function, env), functions),
                strict=True,
            )
        )
    failures = []
    for function, report in reports.items():
        if "init_s" not in report:
            failures.append(f"{function}: did not import: {report['stderr']}")
        elif report["aws_init"]:
            failures.append(f"{function}: connects to the network at import time")
        elif report.get("missing_module"):
            failures.append(f"{function}: no module {report['missing_module']} in the layers")
        elif (report.get("status") or 0) >= 500 and not report["aws"]:
            failures.append(f"{function}: {report['status']} without AWS: {report['stderr']}")
        elif "error" in report and not report["aws"]:
            failures.append(f"{function}: {report['error']}")
    assert failures == []
    answered = [f for f, r in reports.items() if r.get("status") and not r["aws"]]
    assert len(answered) > len(functions) // 2  # most answer without AWS (4xx, docs, keys)


def test_the_lambda_like_process_sees_no_virtualenv(lambda_like: LambdaLike) -> None:
    code = "import sys; print(sys.prefix == sys.base_prefix, [p for p in sys.path if 'site-packages' in p])"
    done = subprocess.run(  # noqa: S603
        [*lambda_like.interpreter(), "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["True", "[]"]
    assert not (lambda_like.opt_python / "pytest").exists()


def imported_names(roots: list[Path]) -> set[str]:
    """Every absolute import in the code under ``roots``, wherever it stands (lazy imports
    inside functions too), as ``module`` or ``module:name``; not ours, not the stdlib."""
    found: set[str] = set()
    for root in roots:
        for source in root.rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_bytes())):
                if isinstance(node, ast.Import):
                    found |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found |= {f"{node.module}:{alias.name}" for alias in node.names}
    return {
        name
        for name in found
        if name.split(".")[0].split(":")[0] not in {*sys.stdlib_module_names, "licensing_core"}
    }


#: Run in the Lambda-like interpreter: prints every import of ``NAMES`` that fails.
IMPORTER = """
import importlib
for entry in NAMES:
    module, _, name = entry.partition(":")
    try:
        found = importlib.import_module(module)
        if name and not hasattr(found, name):
            importlib.import_module(f"{module}.{name}")
    except ImportError as error:
        print(entry, error)
"""


def test_every_module_the_code_imports_lazily_is_in_the_layers(lambda_like: LambdaLike) -> None:
    """What a minimal event does not reach (jwcrypto for JWE and bearers, Azure's SDK for
    its signer) is imported here: a lazy import of a module the layers lack fails."""
    names = sorted(imported_names([LAYER, FUNCTIONS]))
    assert {"jwcrypto:jwe", "pynamodb.models:Model"} <= set(names)
    assert any(name.startswith("azure.identity") for name in names)
    code = f"import sys; sys.path[:0] = [{str(lambda_like.opt_python)!r}]; NAMES = {names!r}"
    done = subprocess.run(  # noqa: S603
        [*lambda_like.interpreter(), "-c", code + IMPORTER],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == ""
    missing = subprocess.run(  # noqa: S603 - and it can fail: a name the layers lack
        [
            *lambda_like.interpreter(),
            "-c",
            code.replace("NAMES = [", "NAMES = ['jwcrypto:nope', ") + IMPORTER,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert missing.stdout.startswith("jwcrypto:nope")
