"""The local gateway server: a client that resets its connection (as a browser does with
an idle kept-alive connection when it leaves a page) is logged, never a traceback, which
the browser and e2e tests treat as a server error."""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from typing import Any, cast

import pytest

from local.gateway import Gateway, GatewayServer


def _reset(address: tuple[str, int]) -> None:
    """Connect, then close with a TCP reset (linger 0) before sending a request."""
    client = socket.create_connection(address)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.05)  # the server is reading the request line
    client.close()


def test_a_reset_connection_is_logged_not_a_traceback(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    server = GatewayServer(("127.0.0.1", 0), cast(Gateway, object()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="local.access"):
            _reset(cast(tuple[str, int], server.server_address))
            deadline = time.monotonic() + 5
            while "connection closed by the client" not in caplog.text:
                assert time.monotonic() < deadline, "the reset was not logged"
                time.sleep(0.02)
    finally:
        server.shutdown()
        server.server_close()
    assert "ConnectionResetError" in caplog.text
    assert "Traceback" not in capfd.readouterr().err


def test_other_errors_are_still_reported(capfd: pytest.CaptureFixture[str]) -> None:
    server = GatewayServer(("127.0.0.1", 0), cast(Gateway, object()))
    try:
        try:
            raise ValueError("a bug in a handler")
        except ValueError:
            server.handle_error(cast(Any, None), ("127.0.0.1", 1))
    finally:
        server.server_close()
    assert "ValueError: a bug in a handler" in capfd.readouterr().err
