"""A local API Gateway: HTTP request -> HTTP API payload 2.0 event -> handler -> HTTP.

Routing comes from the route table (:func:`licensing_core.routes.match`); each route's
``functions/<function>/handler.py`` is loaded by file path, once, and invoked with
the event API Gateway would send and a Lambda-like context. The JWT authorizer of
the deployed API is *not* emulated: handlers verify bearer tokens themselves.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import re
import secrets
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from licensing_core import routes
from licensing_core.http.endpoint import public_base_url
from licensing_core.http.problems import problem_response

log = logging.getLogger("local.gateway")
access_log = logging.getLogger("local.access")


class _PrintableOnly(logging.Filter):
    """Escape control characters in log lines: a request line may carry terminal
    escape sequences, which must never reach an operator's terminal raw."""

    _CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._CONTROL.search(message):
            record.msg = self._CONTROL.sub(lambda c: f"\\x{ord(c.group()):02x}", message)
            record.args = ()
        return True


access_log.addFilter(_PrintableOnly())
log.addFilter(_PrintableOnly())

#: API Gateway refuses larger payloads (10 MB there); the handlers bound much smaller.
MAX_BODY_BYTES = 1024 * 1024
#: API Gateway's integration timeout.
TIMEOUT_SECONDS = 30
ACCOUNT_ID = "123456789012"
API_ID = "local"
REGION = "us-east-1"
MEMORY_MB = 256
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Hop-by-hop or framing headers the gateway sets itself, never taken from a handler.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_DECIMAL = re.compile(r"[0-9]{1,15}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,8}")
#: How long, and how much, of a refused body is discarded so the client sees the answer.
_DRAIN_SECONDS = 5.0
_DRAIN_BYTES = 16 * MAX_BODY_BYTES


# --- The Lambda side ----------------------------------------------------------------


@dataclass
class LambdaContext:
    """The attributes and method of the Lambda context object handlers use."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = MEMORY_MB
    function_version: str = "$LATEST"
    timeout_seconds: float = TIMEOUT_SECONDS
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


class FunctionNotFoundError(LookupError):
    """A route names a function whose ``handler.py`` does not exist."""


class Functions:
    """Loads ``<functions_dir>/<name>/handler.py`` by path, once per name, thread-safely."""

    def __init__(self, functions_dir: Path) -> None:
        self.functions_dir = functions_dir
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()

    def path(self, name: str) -> Path:
        return self.functions_dir / name / "handler.py"

    def load(self, name: str) -> ModuleType:
        module = self._modules.get(name)
        if module is not None:
            return module
        with self._lock:
            if name not in self._modules:
                self._modules[name] = self._import(name)
            return self._modules[name]

    def _import(self, name: str) -> ModuleType:
        path = self.path(name)
        if not path.is_file():
            raise FunctionNotFoundError(f"{path} does not exist")
        module_name = f"local_function_{name}"  # unique: every handler file is handler.py
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
            if not callable(getattr(module, "handler", None)):
                raise ImportError(f"{path} defines no handler(event, context)")
        except BaseException:
            del sys.modules[module_name]
            raise
        return module


# --- HTTP <-> payload 2.0 -----------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    """A request as read off the socket (body already bounded)."""

    method: str
    path: str  #: still percent-encoded, no query
    query: str  #: raw query string, without ``?``
    headers: list[tuple[str, str]]
    body: bytes | None
    source_ip: str
    protocol: str = "HTTP/1.1"
    port: int = 80

    @property
    def host(self) -> str | None:
        return next((value for name, value in self.headers if name.lower() == "host"), None)


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


def _gateway_time(epoch: float) -> str:
    """``12/Mar/2020:19:03:58 +0000`` (locale-independent)."""
    utc = time.gmtime(epoch)
    return (
        f"{utc.tm_mday:02d}/{_MONTHS[utc.tm_mon - 1]}/{utc.tm_year}:"
        f"{utc.tm_hour:02d}:{utc.tm_min:02d}:{utc.tm_sec:02d} +0000"
    )


def _trace_id(epoch: float) -> str:
    return f"Root=1-{int(epoch):08x}-{secrets.token_hex(12)}"


def build_event(
    request: HttpRequest,
    route: routes.Route,
    path_params: Mapping[str, str],
    *,
    request_id: str,
    now: float | None = None,
) -> dict[str, Any]:
    """The event API Gateway (HTTP API, payload format 2.0) sends for ``request``."""
    now = time.time() if now is None else now
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        name = name.lower()
        if name == "cookie":  # moved to ``cookies``, as API Gateway does
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        elif name in headers:
            headers[name] = f"{headers[name]},{value}"
        else:
            headers[name] = value
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = (
        f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    )
    headers["x-forwarded-proto"] = "http"
    headers["x-forwarded-port"] = str(request.port)
    headers.setdefault("x-amzn-trace-id", _trace_id(now))

    # HTTP APIs deliver the path percent-decoded, in rawPath and http.path alike.
    path = unquote(request.path, errors="replace")
    domain = headers.get("host", f"localhost:{request.port}")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": request.query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.query:
        query: dict[str, str] = {}
        for name, value in parse_qsl(request.query, keep_blank_values=True, errors="replace"):
            query[name] = f"{query[name]},{value}" if name in query else value
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": "$default",
        "time": _gateway_time(now),
        "timeEpoch": int(now * 1000),
    }
    if path_params:
        event["pathParameters"] = {
            name: unquote(value, errors="replace") for name, value in path_params.items()
        }
    if request.body is not None:
        try:
            event["body"] = request.body.decode("utf-8")
            event["isBase64Encoded"] = False
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


class InvalidResponseError(ValueError):
    """The handler returned something API Gateway would answer with a 500."""


def _header_text(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    if "\r" in text or "\n" in text:
        raise InvalidResponseError("a header contains a line break")
    return text


def to_http_response(result: Any) -> HttpResponse:
    """Interpret a handler's return value as API Gateway does with payload 2.0."""
    if not (isinstance(result, Mapping) and "statusCode" in result):
        # No statusCode: the whole value, as JSON, is a 200 application/json body.
        try:
            body = json.dumps(result).encode()
        except (TypeError, ValueError) as error:
            raise InvalidResponseError(f"result is not JSON: {error}") from error
        return HttpResponse(200, [("content-type", "application/json")], body)

    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidResponseError(f"statusCode {status!r} is not an HTTP status")
    raw_headers = result.get("headers") or {}
    if not isinstance(raw_headers, Mapping):
        raise InvalidResponseError("headers is not an object")
    headers = [
        (_header_text(name), _header_text(value))
        for name, value in raw_headers.items()
        if str(name).lower() not in _FRAMING_HEADERS
    ]
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list):
        raise InvalidResponseError("cookies is not a list")
    headers.extend(("set-cookie", _header_text(cookie)) for cookie in cookies)

    raw_body = result.get("body")
    if raw_body is None:
        body = b""
    elif not isinstance(raw_body, str):
        raise InvalidResponseError("body is not a string")
    elif result.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw_body, validate=True)
        except ValueError as error:
            raise InvalidResponseError(f"body is not base64: {error}") from error
    else:
        body = raw_body.encode("utf-8")
    return HttpResponse(status, headers, body)


@dataclass(frozen=True)
class Answering:
    """The request a problem of the gateway's own answers: its id (``apigw-requestid``)
    and the host it was sent to, under which the problem's type page lives."""

    request_id: str
    host: str | None
    port: int

    def problem(
        self, status: int, code: str, title: str, detail: str, **headers: str
    ) -> HttpResponse:
        """An ``application/problem+json`` response built by the layer's problem helper,
        its type under the base URL handlers see (see :func:`build_event`)."""
        base_url = public_base_url(self.host or f"localhost:{self.port}", "http")
        body = problem_response(
            status,
            code,
            title,
            detail,
            request_id=self.request_id,
            base_url=base_url,
            headers=headers,
        )
        return to_http_response(body)


def new_request_id() -> str:
    return str(uuid.uuid4())


#: What the gateway answers when a function cannot be imported or fails (no body of its).
_INTERNAL_ERROR = (
    500,
    "INTERNAL_ERROR",
    "Internal error",
    "The request failed; see the server log.",
)


# --- The gateway --------------------------------------------------------------------


#: What the local server serves beside the API under a path prefix (the console's files,
#: the local sign-in): a request in, a response out.
Front = Callable[[HttpRequest], HttpResponse]


class Gateway:
    """Routes a request, invokes the function, and translates its answer."""

    def __init__(self, functions: Functions) -> None:
        self.functions = functions
        self.fronts: dict[str, Front] = {}

    def mount(self, prefix: str, front: Front) -> None:
        """Let ``front`` answer ``prefix`` and every path below it, instead of the routes."""
        self.fronts[prefix.rstrip("/")] = front

    def _front(self, path: str) -> Front | None:
        for prefix, front in self.fronts.items():
            if path == prefix or path.startswith(f"{prefix}/"):
                return front
        return None

    def preload(self) -> list[str]:
        """Import every routed handler now; return warnings for those that fail (their
        requests will answer 500, and the server still starts)."""
        warnings = []
        for name in sorted({route.function for route in routes.ROUTES}):
            try:
                self.functions.load(name)
            except FunctionNotFoundError as error:
                warnings.append(f"{name}: {error}")
            except Exception as error:
                log.debug("importing %s failed", name, exc_info=True)
                warnings.append(f"{name}: {type(error).__name__}: {error}")
        return warnings

    @staticmethod
    def allowed_methods(path: str) -> list[str]:
        return sorted({route.method for route in routes.ROUTES if route.pattern.match(path)})

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id()
        front = self._front(request.path)
        if front is None:
            response = self._dispatch(request, request_id)
        else:
            try:
                response = front(request)
            except Exception:
                log.exception("%s %s failed", request.method, request.path)
                response = Answering(request_id, request.host, request.port).problem(
                    *_INTERNAL_ERROR
                )
        response.headers.append(("apigw-requestid", request_id))
        return response

    def _dispatch(self, request: HttpRequest, request_id: str) -> HttpResponse:
        refuse = Answering(request_id, request.host, request.port).problem
        found = routes.match(request.method, request.path)
        if found is None:
            return refuse(404, "ROUTE_NOT_FOUND", "Not found", f"No route serves {request.path}.")
        if found is False:
            allowed = self.allowed_methods(request.path)
            return refuse(
                405,
                "METHOD_NOT_ALLOWED",
                "Method not allowed",
                f"{request.path} does not accept {request.method}.",
                allow=", ".join(allowed),
            )
        route, path_params = found
        context = LambdaContext(
            function_name=f"licensing-{route.function.replace('_', '-')}",
            aws_request_id=request_id,
        )
        try:
            module = self.functions.load(route.function)
        except FunctionNotFoundError as error:
            log.error("%s: %s", route.route_key, error)
            return refuse(
                501, "NOT_IMPLEMENTED", "Not implemented", f"{route.route_key} has no handler yet."
            )
        except Exception:
            log.exception("cannot import the handler of %s", route.route_key)
            return refuse(*_INTERNAL_ERROR)
        event = build_event(request, route, path_params, request_id=request_id)
        try:
            result = module.handler(event, context)
            response = to_http_response(result)
        except Exception:
            log.exception("%s (request %s) failed", route.function, request_id)
            return refuse(*_INTERNAL_ERROR)
        if context.get_remaining_time_in_millis() == 0:
            log.warning("%s ran past API Gateway's %ss timeout", route.function, TIMEOUT_SECONDS)
        return response


# --- The socket side ----------------------------------------------------------------


class _BodyTooLargeError(Exception):
    """The body exceeds :data:`MAX_BODY_BYTES`."""


class _BadFramingError(Exception):
    """Content-Length or chunked framing that cannot be trusted."""


class GatewayRequestHandler(BaseHTTPRequestHandler):
    """Reads a bounded request, hands it to the :class:`Gateway`, writes the answer."""

    server: GatewayServer
    protocol_version = "HTTP/1.1"
    server_version = "licensing-local"
    #: Headers and body go out in two writes: without this, Nagle's algorithm holds the
    #: second for the client's delayed ACK (about 40 ms per answer on a kept-alive
    #: connection).
    disable_nagle_algorithm = True
    timeout = 60  # idle keep-alive connections and slow clients do not hold a thread forever
    #: Bytes of a refused body to discard after answering (then the connection closes).
    _discard = 0

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def version_string(self) -> str:
        return self.server_version

    def _serve(self) -> None:
        started = time.perf_counter()
        target = self._split_target()
        path = "?" if target is None else target[0]
        try:
            if target is None:
                self.close_connection = True
                response = self._problem(
                    400, "INVALID_REQUEST", "Invalid request", "Bad request target."
                )
            else:
                response = self._read_and_dispatch(*target)
            self._write(response)
        except OSError as error:  # the client timed out, hung up or reset
            self.close_connection = True
            access_log.info("%s %s aborted (%s)", self.command, path, type(error).__name__)
            return
        elapsed = (time.perf_counter() - started) * 1000
        access_log.info("%s %s %d %.1fms", self.command, path, response.status, elapsed)

    def _split_target(self) -> tuple[str, str] | None:
        """``(percent-encoded path, raw query)`` of an origin- or absolute-form target."""
        target = self.path.split("#", 1)[0]
        if target.startswith(("http://", "https://")):
            parts = urlsplit(target)
            return parts.path or "/", parts.query
        if not target.startswith("/"):
            return None
        path, _, query = target.partition("?")
        return path, query

    def _read_and_dispatch(self, path: str, query: str) -> HttpResponse:
        try:
            body = self._read_body()
        except _BodyTooLargeError:
            self._refuse(self._discard or _DRAIN_BYTES)
            return self._too_large()
        except _BadFramingError as error:
            self._refuse(_DRAIN_BYTES)
            return self._problem(400, "INVALID_REQUEST", "Invalid request", str(error))
        request = HttpRequest(
            method=self.command,
            path=path,
            query=query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            port=self.server.server_port,
        )
        return self.server.gateway.handle(request)

    def _content_length(self) -> int | None:
        values = self.headers.get_all("content-length") or []
        if not values:
            return None
        if len(set(values)) != 1 or not _DECIMAL.fullmatch(values[0].strip()):
            raise _BadFramingError("Invalid Content-Length.")
        return int(values[0])

    def _read_body(self) -> bytes | None:
        """The body, or None without one; never reads more than the limit."""
        chunked = self.headers.get("transfer-encoding")
        length = self._content_length()
        if chunked is not None:
            if length is not None or chunked.strip().lower() != "chunked":
                raise _BadFramingError("Unsupported Transfer-Encoding.")
            return self._read_chunked()
        if length is None or length == 0:
            return None
        if length > MAX_BODY_BYTES:
            self._discard = length
            raise _BodyTooLargeError
        body = self.rfile.read(length)
        if len(body) != length:
            raise _BadFramingError("Body shorter than its Content-Length.")
        return body

    def _read_chunked(self) -> bytes | None:
        body = bytearray()
        while True:
            size_text = self.rfile.readline(1024).split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size_text):
                raise _BadFramingError("Invalid chunk size.")
            size = int(size_text, 16)
            if size == 0:
                break
            if len(body) + size > MAX_BODY_BYTES:
                raise _BodyTooLargeError
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _BadFramingError("Truncated chunk.")
            body += chunk
        for _ in range(100):  # trailers, up to the blank line
            if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                break
        return bytes(body) if body else None

    def handle_expect_100(self) -> bool:
        """Refuse an announced oversized body before the client sends it."""
        try:
            length = self._content_length()
        except _BadFramingError:
            length = None
        if length is not None and length > MAX_BODY_BYTES:
            self.close_connection = True  # the body was not sent: nothing to drain
            self._write(self._too_large())
            path = self.path.partition("?")[0]
            access_log.info("%s %s 413 0.0ms (before the body)", self.command, path)
            return False
        return super().handle_expect_100()

    def _refuse(self, discard: int) -> None:
        """Close after answering, first discarding up to ``discard`` unread body bytes."""
        self.close_connection = True
        self._discard = min(discard, _DRAIN_BYTES)

    def _problem(
        self, status: int, code: str, title: str, detail: str, *, trust_host: bool = True
    ) -> HttpResponse:
        """A problem the gateway answers before any function runs, under a request id of its
        own (as API Gateway does); the Host header only counts once the request parsed."""
        host = self.headers.get("host") if trust_host else None
        answering = Answering(new_request_id(), host, self.server.server_port)
        response = answering.problem(status, code, title, detail)
        response.headers.append(("apigw-requestid", answering.request_id))
        return response

    def _too_large(self) -> HttpResponse:
        return self._problem(
            413,
            "PAYLOAD_TOO_LARGE",
            "Payload too large",
            f"Request bodies are limited to {MAX_BODY_BYTES} bytes.",
        )

    def _write(self, response: HttpResponse) -> None:
        body = b"" if self.command == "HEAD" or response.status in (204, 304) else response.body
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        if self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if self._discard:
            self._drain()

    def _drain(self) -> None:
        """Discard (never keep) what the client still sends of a refused body, briefly, so
        it reads our answer instead of a connection reset."""
        remaining, self._discard = self._discard, 0
        deadline = time.monotonic() + _DRAIN_SECONDS
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.5)
            while remaining > 0 and time.monotonic() < deadline:
                data = self.connection.recv(min(remaining, 65536))
                if not data:
                    break
                remaining -= len(data)
        except OSError:
            pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors (bad request line, oversized headers...) as problems too."""
        self.close_connection = True
        if code == 501:  # a method no route uses
            code = 405
        codes = {405: "METHOD_NOT_ALLOWED", 414: "URI_TOO_LONG", 431: "HEADERS_TOO_LARGE"}
        status = HTTPStatus(code)
        response = self._problem(
            code,
            codes.get(code, "INVALID_REQUEST"),
            status.phrase,
            f"{status.description}.",
            trust_host=False,  # the request did not parse
        )
        self._write(response)
        access_log.info("%s - %d (unparsable request)", self.command or "-", code)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silenced: :meth:`_serve` writes the access log (no query strings, no headers)."""

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s: %s", self.address_string(), format % args)


class GatewayServer(ThreadingHTTPServer):
    """A threading HTTP server bound to the gateway (one thread per connection)."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # socketserver's 5 resets connections under a burst

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.gateway = gateway
        super().__init__(address, GatewayRequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or resets an idle kept-alive connection (a browser
        leaving a page) is a line in the access log, not a traceback; anything else is
        reported as socketserver does."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            access_log.info("connection closed by the client (%s)", type(error).__name__)
            return
        super().handle_error(request, client_address)


def make_server(host: str, port: int, gateway: Gateway) -> GatewayServer:
    """Bind (``port`` 0: any free port) without serving yet."""
    return GatewayServer((host, port), gateway)
