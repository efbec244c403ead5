"""The local gateway over real HTTP, with stand-in handlers: the payload 2.0 event it
builds, how it answers for a handler, and the limits it enforces itself."""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.gateway import MAX_BODY_BYTES, Functions, Gateway, GatewayServer, make_server
from tests.e2e.client import Reply, call

pytestmark = pytest.mark.e2e

#: A stand-in for every routed function: echoes its event and context, or does what
#: the ``x-test-action`` header says.
STAND_IN = """
import json


def handler(event, context):
    action = event["headers"].get("x-test-action", "echo")
    if action == "raise":
        raise RuntimeError("secret detail that must not leak")
    if action == "respond":
        return json.loads(event["body"])
    if action == "plain":
        return {"plain": True}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({
            "event": event,
            "context": {
                "function_name": context.function_name,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "invoked_function_arn": context.invoked_function_arn,
                "aws_request_id": context.aws_request_id,
                "remaining": context.get_remaining_time_in_millis(),
            },
        }),
    }
"""


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    functions = tmp_path_factory.mktemp("functions")
    for name in ("create_product", "list_products", "get_product", "docs"):
        (functions / name).mkdir()
        (functions / name / "handler.py").write_text(STAND_IN)
    # jwks, openapi and license_configuration have no handler here: 501.
    server: GatewayServer = make_server("127.0.0.1", 0, Gateway(Functions(Path(functions))))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def assert_quotable(reply: Reply, base_url: str) -> None:
    """A problem names its request as API Gateway does (apigw-requestid), and its type is
    the page under the API that explains its code."""
    request_id = reply.headers["apigw-requestid"]
    assert str(uuid.UUID(request_id)) == request_id and reply.body["requestId"] == request_id
    slug = reply.body["code"].lower().replace("_", "-")
    assert reply.body["type"] == f"{base_url}/problems/{slug}"


def echo(reply: Reply) -> dict[str, Any]:
    assert reply.status == 200, reply
    result: dict[str, Any] = reply.body
    return result


def test_event_is_payload_2(gateway_url: str) -> None:
    reply = call(
        "GET",
        f"{gateway_url}/products/prd%201%2F2?b=2&a=1&a=3&e=&s=x+y%21",
        headers={"Cookie": "c1=v1; c2=v2", "X-Custom": "Value", "User-Agent": "e2e-agent"},
    )
    result = echo(reply)
    event, context = result["event"], result["context"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /products/{productId}"
    assert event["rawPath"] == "/products/prd 1/2"
    assert event["rawQueryString"] == "b=2&a=1&a=3&e=&s=x+y%21"
    assert event["queryStringParameters"] == {"a": "1,3", "b": "2", "e": "", "s": "x y!"}
    assert event["pathParameters"] == {"productId": "prd 1/2"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    headers = event["headers"]
    assert "cookie" not in headers
    assert all(name == name.lower() for name in headers)
    assert headers["x-custom"] == "Value"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert event["isBase64Encoded"] is False
    assert "body" not in event

    ctx = event["requestContext"]
    assert ctx["routeKey"] == event["routeKey"]
    assert ctx["stage"] == "$default"
    assert ctx["http"] == {
        "method": "GET",
        "path": "/products/prd 1/2",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "e2e-agent",
    }
    assert ctx["domainName"] == gateway_url.removeprefix("http://")
    assert ctx["accountId"] and ctx["apiId"] and ctx["domainPrefix"]
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", ctx["time"])
    assert isinstance(ctx["timeEpoch"], int)
    assert str(uuid.UUID(ctx["requestId"])) == ctx["requestId"]
    assert reply.headers["apigw-requestid"] == ctx["requestId"]

    assert context["function_name"] == "licensing-get-product"
    assert context["memory_limit_in_mb"] > 0
    assert context["invoked_function_arn"].endswith(":function:licensing-get-product")
    assert context["aws_request_id"] == ctx["requestId"]
    assert 0 < context["remaining"] <= 30_000


def test_repeated_headers_are_comma_joined(gateway_url: str) -> None:
    connection = http.client.HTTPConnection(gateway_url.removeprefix("http://"), timeout=10)
    connection.putrequest("GET", "/products")
    connection.putheader("X-Multi", "one")
    connection.putheader("X-Multi", "two")
    connection.endheaders()
    event = json.loads(connection.getresponse().read())["event"]
    connection.close()
    assert event["headers"]["x-multi"] == "one,two"
    assert "queryStringParameters" not in event
    assert event["rawQueryString"] == ""


def test_text_body_is_text_and_binary_body_is_base64(gateway_url: str) -> None:
    text = echo(call("POST", f"{gateway_url}/products", data='{"é": 1}'.encode()))["event"]
    assert text["body"] == '{"é": 1}'
    assert text["isBase64Encoded"] is False

    binary = bytes(range(256))
    event = echo(call("POST", f"{gateway_url}/products", data=binary))["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == binary


def test_chunked_body_is_reassembled(gateway_url: str) -> None:
    connection = http.client.HTTPConnection(gateway_url.removeprefix("http://"), timeout=10)
    connection.request("POST", "/products", body=iter([b'{"a":', b' "b"}']), encode_chunked=True)
    event = json.loads(connection.getresponse().read())["event"]
    connection.close()
    assert event["body"] == '{"a": "b"}'


def test_handler_response_is_translated(gateway_url: str) -> None:
    response = {
        "statusCode": 202,
        "headers": {"content-type": "application/octet-stream", "x-extra": "1"},
        "cookies": ["a=1; HttpOnly", "b=2; Secure"],
        "body": base64.b64encode(b"\x00\xffbinary").decode(),
        "isBase64Encoded": True,
    }
    connection = http.client.HTTPConnection(gateway_url.removeprefix("http://"), timeout=10)
    connection.request(
        "POST", "/products", body=json.dumps(response), headers={"x-test-action": "respond"}
    )
    answer = connection.getresponse()
    assert answer.status == 202
    assert answer.read() == b"\x00\xffbinary"
    assert answer.getheader("x-extra") == "1"
    assert answer.headers.get_all("set-cookie") == ["a=1; HttpOnly", "b=2; Secure"]
    connection.close()


def test_result_without_status_code_is_a_200_json_body(gateway_url: str) -> None:
    reply = call("GET", f"{gateway_url}/products", headers={"x-test-action": "plain"})
    assert reply.status == 200
    assert reply.body == {"plain": True}


def test_handler_exception_is_a_500_problem_without_details(gateway_url: str) -> None:
    reply = call("GET", f"{gateway_url}/products", headers={"x-test-action": "raise"})
    assert reply.status == 500
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.body["code"] == "INTERNAL_ERROR"
    assert "secret" not in json.dumps(reply.body)
    assert_quotable(reply, gateway_url)


def test_missing_handler_is_501(gateway_url: str) -> None:
    reply = call("GET", f"{gateway_url}/.well-known/jwks.json")
    assert reply.status == 501
    assert reply.body["code"] == "NOT_IMPLEMENTED"
    assert_quotable(reply, gateway_url)


def test_routing_errors(gateway_url: str) -> None:
    missing = call("GET", f"{gateway_url}/products/a/b")
    assert (missing.status, missing.body["code"]) == (404, "ROUTE_NOT_FOUND")
    assert_quotable(missing, gateway_url)
    wrong = call("PUT", f"{gateway_url}/products/p1")
    assert (wrong.status, wrong.body["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert wrong.headers["allow"] == "GET"
    assert_quotable(wrong, gateway_url)
    head = call("HEAD", f"{gateway_url}/products")
    assert head.status == 405
    assert head.body == ""
    unknown = call("BREW", f"{gateway_url}/products")
    assert (unknown.status, unknown.body["code"]) == (405, "METHOD_NOT_ALLOWED")
    # refused while parsing: its Host header does not count
    assert_quotable(unknown, gateway_url.replace("127.0.0.1", "localhost"))


def test_keep_alive_serves_several_requests(gateway_url: str) -> None:
    connection = http.client.HTTPConnection(gateway_url.removeprefix("http://"), timeout=10)
    for _ in range(3):
        connection.request("GET", "/products")
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 200
    connection.close()


def test_body_over_the_limit_is_413_unread(gateway_url: str) -> None:
    """Announced too large: answered 413 from the headers alone, and closed."""
    host, port = gateway_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /products HTTP/1.1\r\nHost: x\r\n"
            + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode()
            + b"{"
        )
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"connection: close" in head.lower()
    assert json.loads(body)["code"] == "PAYLOAD_TOO_LARGE"


def test_body_over_the_limit_is_413_for_urllib(gateway_url: str) -> None:
    reply = call("POST", f"{gateway_url}/products", data=b"x" * (MAX_BODY_BYTES + 1))
    assert reply.status == 413
    assert reply.body["code"] == "PAYLOAD_TOO_LARGE"
    assert_quotable(reply, gateway_url)
    # and the server is fine afterwards
    assert call("GET", f"{gateway_url}/products").status == 200


def test_expect_100_continue_over_the_limit_is_413(gateway_url: str) -> None:
    host, port = gateway_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /products HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            + f"Content-Length: {10 * MAX_BODY_BYTES}\r\n\r\n".encode()
        )
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413")


def test_chunked_body_over_the_limit_is_413(gateway_url: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536

    connection = http.client.HTTPConnection(gateway_url.removeprefix("http://"), timeout=10)
    connection.request("POST", "/products", body=chunks(), encode_chunked=True)
    answer = connection.getresponse()
    assert answer.status == 413
    connection.close()


@pytest.mark.parametrize(
    "headers",
    [
        b"Content-Length: abc\r\n",
        b"Content-Length: 5\r\nContent-Length: 6\r\n",
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        b"Content-Length: \xb2\r\n",
        b"Transfer-Encoding: chunked\r\n\r\n-5",
    ],
    ids=["not-a-number", "conflicting", "length-and-chunked", "unicode-digit", "chunk-size"],
)
def test_untrustworthy_framing_is_400(gateway_url: str, headers: bytes) -> None:
    host, port = gateway_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /products HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\nhello")
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
