"""The README's journey, run verbatim against a local server, so the README cannot rot.

Every fenced block between ``<!-- journey -->`` and ``<!-- /journey -->`` runs in order
in one bash process: ``sh`` blocks as they are, ``python`` blocks through the test's own
interpreter (the venv the README names). ``API`` and ``TOKEN`` come from the server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from local.aws import with_mfa
from tests.e2e.client import LocalServer, hermetic_env
from tests.support import ROOT

pytestmark = pytest.mark.e2e

FENCE = re.compile(r"^```(sh|python)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def journey_blocks() -> list[tuple[str, str]]:
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index("<!-- journey -->"), readme.index("<!-- /journey -->")
    return FENCE.findall(readme[start:end])


def script(blocks: list[tuple[str, str]]) -> str:
    """One bash script: shell blocks verbatim, Python blocks as heredocs."""
    parts = ["set -euo pipefail"]
    for language, code in blocks:
        parts.append(code if language == "sh" else f"\"$PYTHON\" - <<'PY'\n{code}PY")
    return "\n".join(parts) + "\n"


def test_the_journey_has_every_step() -> None:
    blocks = journey_blocks()
    text = "\n".join(code for _, code in blocks)
    for step in ("/products", "/features", "/tiers", "/customers", "/license-keys",
                 "/license-keys/validate", "client.activate", "client.require",
                 "/revoke", "client.heartbeat"):  # fmt: skip
        assert step in text, step
    assert [language for language, _ in blocks].count("python") >= 2


def test_the_readme_journey_runs_verbatim(local_server: LocalServer, tmp_path: Path) -> None:
    env = {
        **hermetic_env(),
        "API": local_server.base_url,
        "TOKEN": with_mfa(local_server.admin_token),
        "PYTHON": sys.executable,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(  # noqa: S603
        ["bash", "-c", script(journey_blocks())],  # noqa: S607
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    lines = result.stdout.splitlines()
    # the feature's key; the identity created with the license, by its email; the key validates
    assert lines[:3] == ["export", "ada@example.com", "True"]
    token = r"licensed: \['export'\] \(machine token until \d{4}-\d\d-\d\d \d\d:\d\d UTC\)"
    assert any(re.fullmatch(token, line) for line in lines), lines
    assert "export: allowed" in lines
    assert "revoked" in lines
    assert "the app goes dark: REVOKED - export allowed: False" in lines, output
