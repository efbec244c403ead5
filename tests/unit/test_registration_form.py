"""Form bodies (``Route.form``): an HTML form post parses into the same request model as
JSON; other routes keep refusing it; malformed forms are 400s and the handler never runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from licensing_core import schemas
from licensing_core.http.endpoint import Reply, Request, dispatch
from licensing_core.routes import Access, Route
from licensing_core.settings import Settings
from pydantic import ValidationError

FORM_ROUTE = Route(
    "POST", "/register", "register", "Register", Access.PUBLIC,
    request=schemas.RegisterRequest, status=202, form=True,
)  # fmt: skip
JSON_ROUTE = Route(
    "POST", "/things", "things", "Things", Access.PUBLIC, request=schemas.RegisterRequest
)
FORM = "application/x-www-form-urlencoded"


def event(body: str, content_type: str) -> dict[str, Any]:
    return {
        "headers": {"content-type": content_type},
        "requestContext": {"requestId": "r", "http": {"sourceIp": "192.0.2.1"}},
        "body": body,
        "isBase64Encoded": False,
    }


def run(route: Route, body: str, content_type: str) -> tuple[dict[str, Any], list[Any]]:
    seen: list[Any] = []

    def handle(request: Request[Any]) -> Reply:
        seen.append(request.body)
        return Reply("ok")

    return dispatch(route, handle, event(body, content_type)), seen


def test_a_form_parses_into_the_request_model() -> None:
    body = "email=Ada%40Example.com&emailConfirmation=ada%40example.com&productCode=Rdn.Identity&tierCode=free"
    response, seen = run(FORM_ROUTE, body, f"{FORM}; charset=UTF-8")
    assert response["statusCode"] == 202
    assert seen == [
        schemas.RegisterRequest(
            email="Ada@Example.com",  # as typed: the confirmation matches its key
            email_confirmation="ada@example.com",
            product_code="Rdn.Identity",
            tier_code="free",
        )
    ]


def test_the_same_route_still_takes_json() -> None:
    body = json.dumps({"email": "a@example.com", "productCode": "P", "tierCode": "t"})
    response, seen = run(FORM_ROUTE, body, "application/json")
    assert response["statusCode"] == 202 and seen[0].email == "a@example.com"


@pytest.mark.parametrize(
    ("route", "body", "content_type", "status", "code"),
    [
        (FORM_ROUTE, "email=a%40b.co&email=c%40d.co&productCode=P&tierCode=t", FORM, 400, "MALFORMED_FORM"),
        (FORM_ROUTE, "email=%FF&productCode=P&tierCode=t", FORM, 400, "MALFORMED_FORM"),
        (FORM_ROUTE, "&".join(f"f{n}=1" for n in range(100)), FORM, 400, "MALFORMED_FORM"),
        (FORM_ROUTE, "email=a%40b.co&productCode=P&tierCode=t&admin=1", FORM, 422, "VALIDATION_FAILED"),
        (FORM_ROUTE, "email=a%40b.co&productCode=P", FORM, 422, "VALIDATION_FAILED"),
        (FORM_ROUTE, "email=a%40b.co&productCode=P&tierCode=t", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (JSON_ROUTE, "email=a%40b.co&productCode=P&tierCode=t", FORM, 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)  # fmt: skip
def test_bad_forms_are_problems_and_the_handler_never_runs(
    route: Route, body: str, content_type: str, status: int, code: str
) -> None:
    response, seen = run(route, body, content_type)
    assert response["statusCode"] == status, response["body"]
    assert json.loads(response["body"])["code"] == code
    assert seen == []


def test_registration_settings_have_safe_defaults_and_read_the_environment() -> None:
    defaults = Settings()
    assert defaults.cognito_user_pool_id is None
    assert defaults.claim_expiry_seconds == 7 * 86_400
    assert (defaults.register_limit_per_email, defaults.register_limit_per_ip) == (3, 20)
    assert defaults.register_window_seconds == 3600
    configured = Settings.from_env(
        {
            "LICENSING_COGNITO_USER_POOL_ID": "us-east-1_x",
            "LICENSING_CLAIM_EXPIRY_SECONDS": "86400",
            "LICENSING_REGISTER_LIMIT_PER_IP": "100",
        }
    )
    assert configured.cognito_user_pool_id == "us-east-1_x"
    assert configured.claim_expiry_seconds == 86_400
    assert configured.register_limit_per_ip == 100


@pytest.mark.parametrize("invisible", ["\u0000", "\u0007", "\u200b", "\u202e", "\u2028", "\u00a0"])
def test_invisible_twins_of_an_email_are_refused(invisible: str) -> None:
    """Else one address could be registered past its per-email limit as many twins."""
    with pytest.raises(ValidationError):
        schemas.RegisterRequest(
            email=f"ada{invisible}@example.com", product_code="P", tier_code="t"
        )
    try:  # at the end: refused, or stripped (white space) back to the same address
        trailing = schemas.RegisterRequest(
            email=f"ada@example.com{invisible}", product_code="P", tier_code="t"
        )
    except ValidationError:
        pass
    else:
        assert trailing.email == "ada@example.com"
    typed = schemas.RegisterRequest(email=" Zoë@exämple.com ", product_code="P", tier_code="t")
    assert typed.email == "Zoë@exämple.com"  # kept as typed; keyed by domain.emails
