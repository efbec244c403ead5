"""The e2e suite drives a real ``python -m local`` subprocess over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.client import LocalServer, free_port


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One server for the session, on a free port; it must stop cleanly on SIGINT."""
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    port = free_port()
    try:
        server = LocalServer.start(data_dir, "--port", str(port))
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    assert server.base_url == f"http://127.0.0.1:{port}"
    yield server
    code = server.stop()
    output = server.output()
    assert code == 0, f"the local server exited with {code}:\n{output}"
    assert "Traceback" not in output, f"the local server logged an error:\n{output}"


@pytest.fixture(scope="session")
def user_token(local_server: LocalServer) -> str:
    """An access token of the plain user (no admin group)."""
    return local_server.token("user")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
