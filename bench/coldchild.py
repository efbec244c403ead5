"""One cold start, run in a fresh interpreter by ``bench.coldstart`` (by file path, so
nothing of the benchmark harness is imported): import ``functions/<name>/handler.py``
by file path as Lambda's INIT phase does, then optionally answer one request (an API
Gateway v2 event read from stdin). Any network connection (an AWS call) is refused
and reported. Prints one JSON line: init and request seconds, status, whether AWS was
needed."""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import importlib.util  # noqa: E402 - timing starts before any import
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def main() -> None:
    function, event_json = sys.argv[1], sys.stdin.read()
    path = Path(__file__).resolve().parents[1] / "functions" / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"functions.{function}.handler", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    initialized = time.perf_counter()
    result: dict[str, object] = {"init_s": initialized - STARTED}
    if event_json.strip():
        import socket

        attempts: list[object] = []

        def refuse(self: socket.socket, address: object) -> None:
            attempts.append(address)
            raise ConnectionRefusedError("the cold-start benchmark makes no AWS calls")

        socket.socket.connect = refuse  # type: ignore[method-assign, assignment]
        response = module.handler(json.loads(event_json), None)
        result["request_s"] = time.perf_counter() - initialized
        result["status"] = response.get("statusCode")
        result["aws"] = bool(attempts)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
