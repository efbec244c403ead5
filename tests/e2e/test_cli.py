"""The ``python -m local`` command line: options, the token command, clean stops."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.client import ROOT, LocalServer, hermetic_env

pytestmark = pytest.mark.e2e


def run_local(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "local", *args],
        cwd=ROOT,
        env=hermetic_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_names_the_options_and_the_token_command() -> None:
    result = run_local("--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--data-dir", "--aws-port", "--no-seed", "token"):
        assert option in result.stdout
    token_help = run_local("token", "--help")
    assert token_help.returncode == 0
    assert "--user" in token_help.stdout


def test_token_without_a_server_fails_clearly(data_dir: Path) -> None:
    result = run_local("token", "--data-dir", str(data_dir))
    assert result.returncode == 1
    assert "not" in result.stderr and "make run" in result.stderr
    assert result.stdout == ""


def test_admin_token_command_gives_a_working_token(local_server: LocalServer) -> None:
    token = local_server.token("admin")
    assert token != local_server.admin_token
    assert local_server.request("GET", "/products", token=token).status == 200


def test_port_zero_no_seed_and_sigterm(data_dir: Path) -> None:
    """A second server on any free port: the port is printed and in state.json, nothing
    is seeded, SIGTERM stops it with 0, and the token command then says it is down."""
    server = LocalServer.start(data_dir, "--port", "0", "--no-seed")
    try:
        port = int(server.base_url.rsplit(":", 1)[1])
        assert port > 0
        assert server.state()["port"] == port
        assert server.base_url in server.output()
        reply = server.request("GET", "/products", token=server.admin_token)
        assert reply.status == 200
        assert reply.body["items"] == []
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0, server.output()
    assert "Traceback" not in server.output()
    after = run_local("token", "--data-dir", str(data_dir))
    assert after.returncode == 1
    assert "not running" in after.stderr


def test_a_taken_port_is_a_clear_error(local_server: LocalServer, data_dir: Path) -> None:
    port = local_server.base_url.rsplit(":", 1)[1]
    result = run_local("--port", port, "--data-dir", str(data_dir))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
