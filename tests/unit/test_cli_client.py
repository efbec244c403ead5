"""The CLI's HTTP client and error reporting, against crafted responses (no sockets)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from licensing_cli.client import ApiClient, ApiError, StepUpRequired, parse_challenge
from licensing_cli.errors import Exit, exit_code, explain_step_up
from licensing_cli.main import main

STEP_UP_CHALLENGE = (
    'Bearer realm="licensing", error="insufficient_user_authentication", '
    'error_description="A recent MFA login is required", acr_values="mfa", max_age=300'
)
ENV = {"LICENSING_URL": "https://licensing.test", "LICENSING_TOKEN": "t0ken"}


def problem(status: int, code: str, detail: str, **extra: Any) -> httpx.Response:
    page = f"https://licensing.test/problems/{code.lower().replace('_', '-')}"
    body = {"type": page, "title": "x", "status": status, "requestId": "req-1"}
    body.update(detail=detail, code=code, **extra)
    headers = {"content-type": "application/problem+json"}
    if status == 401:
        headers["www-authenticate"] = extra.pop("challenge", 'Bearer error="invalid_token"')
    return httpx.Response(status, headers=headers, content=json.dumps(body))


def run(
    handler: Callable[[httpx.Request], httpx.Response], *args: str
) -> tuple[int, str, str, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), env=ENV, stdout=out, stderr=err, transport=httpx.MockTransport(record))
    return code, out.getvalue(), err.getvalue(), seen


def test_a_step_up_challenge_is_explained_in_plain_words_with_exit_5() -> None:
    def step_up(request: httpx.Request) -> httpx.Response:
        response = problem(401, "STEP_UP_REQUIRED", "A recent MFA login is required")
        response.headers["www-authenticate"] = STEP_UP_CHALLENGE
        return response

    code, out, err, seen = run(step_up, "licenses", "revoke", "lic_1", "--reason", "fraud")
    assert code == Exit.STEP_UP == 5
    assert (
        "this action needs a stronger login (MFA) within the last 5 minutes; "
        "run `licensing login --mfa`" in " ".join(err.split())
    )
    assert out == ""
    assert seen[0].headers["authorization"] == "Bearer t0ken"
    assert json.loads(seen[0].content) == {"reason": "fraud"}


def test_the_step_up_error_carries_the_challenge() -> None:
    response = problem(401, "STEP_UP_REQUIRED", "mfa needed")
    response.headers["www-authenticate"] = STEP_UP_CHALLENGE
    client = ApiClient("https://x.test", transport=httpx.MockTransport(lambda r: response))
    with pytest.raises(StepUpRequired) as caught:
        client.post("/license-keys", {})
    error = caught.value
    assert (error.status, error.code, error.detail) == (401, "STEP_UP_REQUIRED", "mfa needed")
    assert error.www_authenticate == STEP_UP_CHALLENGE
    assert error.acr_values == ["mfa"] and error.max_age == 300
    assert exit_code(error) == Exit.STEP_UP


@pytest.mark.parametrize(
    ("acr", "max_age", "expected"),
    [
        (["mfa"], 300, "a stronger login (MFA) within the last 5 minutes"),
        (["urn:example:aal2"], 3600, "a stronger login (MFA) within the last 1 hour"),
        (["phr"], 0, "a stronger login (MFA) made just now"),
        (["gold"], 90, "a stronger login (authentication level gold) within the last 90 seconds"),
        ([], None, "this action needs a stronger login (MFA); run"),
    ],
)
def test_step_up_explanations(acr: list[str], max_age: int | None, expected: str) -> None:
    assert expected in explain_step_up(acr, max_age)


def test_challenge_parameters_are_parsed() -> None:
    challenge = parse_challenge('Bearer realm="a, b", error_description="say \\"hi\\"", max_age=60')
    assert challenge is not None
    assert challenge.scheme == "Bearer"
    assert challenge.params["realm"] == "a, b"
    assert challenge.params["error_description"] == 'say "hi"'
    assert challenge.max_age == 60
    assert parse_challenge(None) is None and parse_challenge("  ") is None


@pytest.mark.parametrize(
    ("response", "exit_status", "message"),
    [
        (problem(401, "INVALID_TOKEN", "token expired"), 3, "run `licensing login`"),
        (problem(403, "NOT_AN_ADMIN", "needs an administrator"), 3, "NOT_AN_ADMIN, HTTP 403"),
        (problem(404, "PRODUCT_NOT_FOUND", "no product"), 1, "PRODUCT_NOT_FOUND, HTTP 404"),
        (problem(409, "CODE_TAKEN", "code taken"), 1, "code taken (CODE_TAKEN, HTTP 409)"),
        (
            problem(
                422,
                "VALIDATION_FAILED",
                "the body does not match",
                errors=[{"path": "body.code", "message": "bad code", "type": "x"}],
            ),
            1,
            "- body.code: bad code",
        ),
        (problem(503, "UNAVAILABLE", "try later"), 4, "retrying later may help"),
        (httpx.Response(502, text="<html>Bad gateway</html>"), 4, "HTTP_502"),
    ],
)
def test_exit_codes_and_messages(response: httpx.Response, exit_status: int, message: str) -> None:
    code, _, err, _ = run(lambda request: response, "products", "create", "X", "Y")
    assert code == exit_status
    assert message in err


def test_json_mode_prints_the_problem_document_on_stdout() -> None:
    code, out, err, _ = run(
        lambda request: problem(404, "LICENSE_NOT_FOUND", "no license"),
        "--json",
        "licenses",
        "show",
        "lic_1",
    )
    assert code == 1
    assert json.loads(out)["code"] == "LICENSE_NOT_FOUND"
    assert "no license" in err


def test_json_mode_prints_the_raw_answer() -> None:
    raw = '{"items": [{"productId": "prd_1", "code": "A", "name": "A", "createdAt": "2025-01-01T00:00:00Z"}], "nextCursor": null}'
    code, out, _, seen = run(
        lambda request: httpx.Response(200, headers={"content-type": "application/json"}, text=raw),
        "products",
        "list",
        "--json",
        "--limit",
        "7",
    )
    assert code == 0 and out == raw + "\n"
    assert seen[0].url.params["limit"] == "7"


def test_unreachable_is_exit_4() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    code, _, err, _ = run(refuse, "products", "list")
    assert code == 4 and "cannot reach the API" in err


def test_no_command_and_unknown_options_are_usage_errors() -> None:
    assert run(lambda r: httpx.Response(200), "products")[0] == 2
    assert run(lambda r: httpx.Response(200), "products", "list", "--frobnicate")[0] == 2
    assert run(lambda r: httpx.Response(200), "--help")[0] == 0


def test_api_error_text_without_json() -> None:
    response = httpx.Response(500, text="oops")
    client = ApiClient("https://x.test", transport=httpx.MockTransport(lambda r: response))
    with pytest.raises(ApiError) as caught:
        client.get("/products")
    assert caught.value.code == "HTTP_500" and caught.value.text == "oops"
    assert not isinstance(caught.value, StepUpRequired)
