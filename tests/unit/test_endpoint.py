"""The endpoint wrapper: every malformed request is a 4xx problem, and the handler never runs."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from licensing_core import schemas
from licensing_core.domain.errors import AlreadyExists, NotFound, Unavailable
from licensing_core.http import endpoint
from licensing_core.http.endpoint import Reply, Request, dispatch
from licensing_core.routes import Access, Route
from licensing_core.settings import reset_settings

ROUTE = Route(
    "POST",
    "/things/{thingId}",
    "make_thing",
    "Make a thing",
    Access.APPLICATION,
    request=schemas.ProductCreate,
    query=schemas.PageQuery,
    response=schemas.Product,
    status=201,
)


class Recorder:
    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self.requests: list[Request[Any]] = []
        self.result, self.error = result, error

    def __call__(self, request: Request[Any]) -> Any:
        self.requests.append(request)
        if self.error:
            raise self.error
        return self.result


def event(
    body: Any = None,
    *,
    content_type: str = "application/json",
    thing: str = "t1",
    query: dict[str, str] | None = None,
    b64: bool = False,
) -> dict[str, Any]:
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    if b64 and text is not None:
        text = base64.b64encode(text.encode()).decode()
    return {
        "version": "2.0",
        "rawPath": f"/things/{thing}",
        "headers": {"content-type": content_type, "host": "h"},
        "pathParameters": {"thingId": thing},
        "queryStringParameters": query,
        "requestContext": {
            "requestId": "req-1",
            "domainName": "api.test",
            "http": {"sourceIp": "192.0.2.1", "userAgent": "ua"},
        },
        "body": text,
        "isBase64Encoded": b64,
    }


def problem(response: dict[str, Any]) -> dict[str, Any]:
    assert response["headers"]["content-type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response["body"])
    assert body["status"] == response["statusCode"]
    assert body["type"] == f"https://api.test/problems/{body['code'].lower().replace('_', '-')}"
    assert body["requestId"] == "req-1"
    return body


def test_valid_request_reaches_the_handler_with_parsed_inputs() -> None:
    handler = Recorder(result=Reply("ok", headers={"x-a": "1"}, status=202))
    response = dispatch(ROUTE, handler, event({"code": "C", "name": " N "}, query={"limit": "5"}))
    assert response["statusCode"] == 202 and response["headers"]["x-a"] == "1"
    request = handler.requests[0]
    assert request.body == schemas.ProductCreate(code="C", name="N")
    assert request.query.limit == 5 and request.path == {"thingId": "t1"}
    assert (request.source_ip, request.request_id, request.base_url) == (
        "192.0.2.1",
        "req-1",
        "https://api.test",
    )


def test_base64_bodies_are_decoded() -> None:
    handler = Recorder(result=Reply("ok"))
    assert (
        dispatch(ROUTE, handler, event({"code": "C", "name": "N"}, b64=True))["statusCode"] == 201
    )


@pytest.mark.parametrize(
    ("ev", "status", "code"),
    [
        (event("{not json"), 400, "MALFORMED_JSON"),
        (event("[1, 2]"), 400, "MALFORMED_JSON"),
        (event(b"\xff".decode("latin-1")), 400, "MALFORMED_JSON"),
        (
            event({"code": "C", "name": "N"}, content_type="text/plain"),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (event({"code": "C", "name": "N"}, content_type=""), 415, "UNSUPPORTED_MEDIA_TYPE"),
        (event({"code": "C", "name": "N", "productId": "mine"}), 422, "VALIDATION_FAILED"),
        (event({"code": 5, "name": "N"}), 422, "VALIDATION_FAILED"),
        (event({"code": "C"}), 422, "VALIDATION_FAILED"),
        (event({"code": "C", "name": "N"}, query={"limit": "1000"}), 422, "VALIDATION_FAILED"),
        (event({"code": "C", "name": "N"}, query={"debug": "1"}), 422, "VALIDATION_FAILED"),
        (event({"code": "C", "name": "x" * 70_000}), 413, "PAYLOAD_TOO_LARGE"),
        (event({"code": "C", "name": "N"}, thing="a%2Fb"), 404, "NOT_FOUND"),
        ({**event({"code": "C", "name": "N"}), "isBase64Encoded": True}, 400, "MALFORMED_BODY"),
    ],
)
def test_bad_input_is_a_problem_and_the_handler_never_runs(
    ev: dict[str, Any], status: int, code: str
) -> None:
    handler = Recorder()
    response = dispatch(ROUTE, handler, ev)
    assert response["statusCode"] == status
    assert problem(response)["code"] == code
    assert handler.requests == []


def test_validation_errors_name_the_fields() -> None:
    body = problem(
        dispatch(ROUTE, Recorder(), event({"code": "bad code!", "name": "N", "extra": 1}))
    )
    assert {e["path"] for e in body["errors"]} == {"body.code", "body.extra"}


def test_domain_errors_map_to_their_status_and_code() -> None:
    response = dispatch(
        ROUTE,
        Recorder(error=AlreadyExists("taken", code="THING_TAKEN", thing="t1")),
        event({"code": "C", "name": "N"}),
    )
    assert response["statusCode"] == 409
    assert problem(response) | {} == {
        "type": "https://api.test/problems/thing-taken",
        "title": "Already exists",
        "requestId": "req-1",
        "status": 409,
        "detail": "taken",
        "code": "THING_TAKEN",
        "thing": "t1",
        "instance": "/things/t1",
    }
    assert (
        dispatch(ROUTE, Recorder(error=Unavailable("busy")), event({"code": "C", "name": "N"}))[
            "statusCode"
        ]
        == 503
    )


def test_unexpected_errors_are_500_without_internals(caplog: pytest.LogCaptureFixture) -> None:
    response = dispatch(
        ROUTE,
        Recorder(error=RuntimeError("db password is hunter2")),
        event({"code": "C", "name": "N"}),
    )
    body = problem(response)
    assert response["statusCode"] == 500 and body["code"] == "INTERNAL_ERROR"
    assert "hunter2" not in response["body"] and body["requestId"] == "req-1"


def test_a_catalogued_code_brings_its_title_and_its_page(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()
    monkeypatch.setattr(endpoint.logger.registered_handler, "stream", log)
    response = dispatch(
        ROUTE,
        Recorder(error=NotFound("no product p", code="PRODUCT_NOT_FOUND")),
        event({"code": "C", "name": "N"}),
    )
    body = problem(response)
    assert (response["statusCode"], body["title"]) == (404, "Product not found")
    assert body["type"] == "https://api.test/problems/product-not-found"
    logged = [json.loads(line) for line in log.getvalue().splitlines()]
    (refused,) = [line for line in logged if line["message"] == "request refused"]
    assert refused["correlation_id"] == body["requestId"]  # what support searches for


def test_problem_types_stay_relative_when_the_configuration_is_what_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LICENSING_MAX_BODY_BYTES", "many")
    reset_settings()
    response = dispatch(ROUTE, Recorder(), event({"code": "C", "name": "N"}))
    body = json.loads(response["body"])
    assert (response["statusCode"], body["code"]) == (500, "INTERNAL_ERROR")
    assert (body["type"], body["requestId"]) == ("/problems/internal-error", "req-1")


def test_models_serialize_camel_case() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 1, 2, tzinfo=UTC)
    product = schemas.Product(
        product_id="p", code="c", name="n", created_at=moment, updated_at=moment
    )
    response = dispatch(ROUTE, Recorder(result=product), event({"code": "C", "name": "N"}))
    assert response["statusCode"] == 201
    assert json.loads(response["body"])["productId"] == "p"
    assert response["headers"]["x-content-type-options"] == "nosniff"


def test_bytes_replies_are_base64_encoded() -> None:
    data = bytes(range(256))
    response = dispatch(ROUTE, Recorder(result=Reply(data)), event({"code": "C", "name": "N"}))
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == data
    text = dispatch(ROUTE, Recorder(result=Reply("ok")), event({"code": "C", "name": "N"}))
    assert text["body"] == "ok" and "isBase64Encoded" not in text


def test_an_idempotent_application_route_must_name_whose_keys_it_keeps() -> None:
    """Applications carry no bearer: without a named space their keys would all meet."""
    from licensing_core.http.endpoint import endpoint

    with pytest.raises(TypeError, match="space"):
        endpoint("activate")
    endpoint("activate", idempotency_space=lambda request: "license:x")
    endpoint("issue_license")  # administrators: their tenant and subject
