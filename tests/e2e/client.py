"""Stdlib-only helpers of the e2e suite: HTTP calls and local server processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


class Reply(NamedTuple):
    status: int
    headers: Message
    body: Any  #: parsed JSON when the response is JSON, else text


def call(
    method: str,
    url: str,
    *,
    token: str | None = None,
    json_body: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    """One HTTP request; a 4xx/5xx is returned like any other answer."""
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    if json_body is not None:
        data = json.dumps(json_body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    if not url.startswith("http://"):
        raise ValueError(f"the local server speaks plain http: {url}")
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, answer_headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, error.headers, error.read()
    content_type = answer_headers.get("content-type", "")
    body: Any = raw.decode("utf-8", "replace")
    if "json" in content_type and raw:
        body = json.loads(raw)
    return Reply(status, answer_headers, body)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hermetic_env() -> dict[str, str]:
    """This environment without AWS or LICENSING settings (the server sets its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LICENSING_"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class LocalServer:
    """A ``python -m local`` subprocess."""

    process: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path
    base_url: str = ""
    admin_token: str = ""

    @classmethod
    def start(cls, data_dir: Path, *args: str) -> LocalServer:
        log_path = data_dir.with_name(data_dir.name + ".log")
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "local", "--data-dir", str(data_dir), *args],
                cwd=ROOT,
                env=hermetic_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = cls(process, data_dir, log_path)
        try:
            server._wait_until_ready()
        except BaseException:
            server.kill()
            raise
        return server

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads((self.data_dir / "state.json").read_text())
        return state

    def cognito(self) -> Any:
        """A boto3 Cognito client of the server's embedded moto."""
        import boto3

        state = self.state()
        return boto3.client(
            "cognito-idp",
            region_name=state["region"],
            endpoint_url=state["aws_endpoint"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the local server exited with {self.process.returncode}:\n{self.output()}"
                )
            if not self.base_url:
                try:
                    state = self.state()
                except (OSError, ValueError):
                    state = {}
                if state.get("pid") == self.process.pid:
                    self.base_url = state["server_url"]
                    self.admin_token = (self.data_dir / "admin-token").read_text().strip()
            if self.base_url:
                try:
                    if call("GET", f"{self.base_url}/.well-known/jwks.json", timeout=5)[0] == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"the local server was not ready in {START_TIMEOUT}s:\n{self.output()}")

    def token(self, user: str = "user", *options: str) -> str:
        """A fresh access token, through ``python -m local token`` (``options``: e.g.
        ``--tenant ID``, ``--service SCOPE``)."""
        result = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "local",
                "token",
                "--user",
                user,
                "--data-dir",
                str(self.data_dir),
                *options,
            ],
            cwd=ROOT,
            env=hermetic_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        return call(method, f"{self.base_url}{path}", **kwargs)

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        """Signal the server and return its exit code (killing it after a timeout)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(
                    f"the server ignored {sig.name} for {STOP_TIMEOUT}s:\n{self.output()}"
                ) from None
        return int(self.process.returncode)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)
