"""One cold start as Lambda runs it, in a fresh ``python3.11 -I -S -B`` (no virtualenv,
no site-packages, nothing written): ``sys.path`` is the function's folder and the
extracted layers (``/opt/python``), the handler module is imported by name as Lambda's
INIT does, then optionally called once with an event read from stdin.

Every network connection (and name lookup) is refused from the first line on and reported: an AWS call at
import time, or one a request makes. Prints one JSON line: init and request seconds,
status, connections tried during init and during the request, and the missing module
when an ``ImportError`` is anywhere in a raised exception's chain.

Then the process ends at once (``os._exit``), as a Lambda environment does: the runtime
keeps the process waiting for the next event until it is frozen or killed, never
finalized, so interpreter shutdown (module teardown) is no part of a cold start. With
``--finalize`` it exits normally instead, shutdown included (the bench's former yardstick).

    python3.11 -I -S -B coldchild.py <function folder> <extracted /opt/python> [--finalize] < event.json
"""

import time

STARTED = time.perf_counter()

import importlib  # noqa: E402 - timing starts before any import
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from types import SimpleNamespace  # noqa: E402
from typing import Any  # noqa: E402

attempts: list[object] = []


def refuse(self: socket.socket, address: object) -> None:
    attempts.append(address)
    raise ConnectionRefusedError("no network in a cold-start run")


def unresolved(host: object, *_args: object, **_kwargs: object) -> list[Any]:
    attempts.append(host)
    raise socket.gaierror(socket.EAI_NONAME, "no network in a cold-start run")


def missing_module(error: BaseException | None) -> str | None:
    """The module an ``ImportError`` in ``error``'s chain could not import."""
    while error is not None:
        if isinstance(error, ImportError):
            return error.name or str(error)
        error = error.__cause__ or error.__context__
    return None


def main() -> None:
    function_dir, opt_python = sys.argv[1], sys.argv[2]
    socket.socket.connect = refuse  # type: ignore[method-assign, assignment]
    socket.getaddrinfo = unresolved
    sys.path[:0] = [function_dir, opt_python]
    name = function_dir.rstrip("/").rsplit("/", 1)[-1]
    os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", name)  # as Lambda sets it
    module = importlib.import_module("handler")
    initialized = time.perf_counter()
    result: dict[str, object] = {"init_s": initialized - STARTED, "aws_init": len(attempts)}
    event_json = sys.stdin.read()
    if event_json.strip():
        context = SimpleNamespace(
            function_name=name,
            memory_limit_in_mb=512,
            invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:cold",
            aws_request_id="cold-start",
            get_remaining_time_in_millis=lambda: 5000,
        )
        try:
            response = module.handler(json.loads(event_json), context)
        except Exception as error:  # reported, not raised: the parent judges it
            result["error"] = f"{type(error).__name__}: {error}"[:500]
            result["missing_module"] = missing_module(error)
        else:
            if isinstance(response, dict):
                result["status"] = response.get("statusCode")
        result["request_s"] = time.perf_counter() - initialized
        result["aws"] = len(attempts) - int(result["aws_init"])  # type: ignore[call-overload]
    print(json.dumps(result))
    if "--finalize" not in sys.argv[3:]:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # as Lambda: no interpreter shutdown after the request


if __name__ == "__main__":
    main()
