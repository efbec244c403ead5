"""The registration page: escaping, the pinned style and script, content negotiation,
prices, and problems turned into the page's error state."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from licensing_core.http import pages
from licensing_core.http.problems import problem_response
from licensing_core.services.registration import Offer

OFFER = Offer(
    product_id="prd_1",
    product_code="Rdn.Identity",
    product_name="Rdn Identity",
    product_description=None,
    tier_id="tier_1",
    tier_code="pro",
    tier_name="Pro",
    tier_description="For teams",
    monthly_price=2900,
    annual_price=29000,
    currency="EUR",
    billing_periods=("monthly", "annual"),
    features=("Passkeys", "Single sign-on"),
)
#: Where a problem happened: every problem names its request (and its type's base URL).
IDS = {"request_id": "req-9", "base_url": "https://api.test"}
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, tuple[str, ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, tuple(name for name, _ in attrs)))


def elements(page: str) -> list[tuple[str, tuple[str, ...]]]:
    """Every start tag with its attribute names, as a browser's tokenizer sees them."""
    parser = Elements()
    parser.feed(page)
    return parser.found


def inline(tag: str, page: str) -> str:
    found = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.S)
    assert found, tag
    return found.group(1)


def test_the_policy_pins_exactly_the_inline_style_and_script() -> None:
    page = pages.register_page(OFFER)
    policy = pages.CONTENT_SECURITY_POLICY
    assert f"'sha256-{sha256(inline('style', page))}'" in policy
    assert f"'sha256-{sha256(inline('script', page))}'" in policy
    assert page.count("<script") == 1 and page.count("<style") == 1
    attributes = {name for _, attrs in elements(page) for name in attrs}
    assert "style" not in attributes and not any(name.startswith("on") for name in attributes)
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["form-action"] == "'self'" and directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"


def test_the_page_is_accessible() -> None:
    page = pages.register_page(OFFER)
    assert page.startswith("<!doctype html>") and '<html lang="en">' in page
    for name in ("email", "emailConfirmation"):
        assert f'<label for="{name}">' in page
        assert re.search(
            rf'<input type="email" id="{name}" name="{name}" autocomplete="email" required', page
        )
        assert f'aria-describedby="{name}-hint {name}-error"' in page
    assert '<div id="status" role="status" aria-live="polite"' in page
    assert '<h2 id="success-title" tabindex="-1">' in page  # focus target after success
    assert '<button type="submit">Register</button>' in page


def _offer_and_state(text: str) -> tuple[Offer, pages.PageState]:
    offer = Offer(**{**OFFER.__dict__, "product_name": text, "tier_name": text,
                     "tier_description": text, "features": (text,), "product_code": text,
                     "currency": text})  # fmt: skip
    state = pages.PageState(
        kind="error",
        message=text,
        values={"email": text, "emailConfirmation": text},
        field_errors={"email": text},
    )
    return offer, state


def test_every_interpolated_value_is_escaped() -> None:
    page = pages.register_page(*_offer_and_state(HOSTILE))
    assert HOSTILE not in page and pages.html.escape(HOSTILE, quote=True) in page
    # The hostile page has exactly the elements and attributes of a harmless one.
    assert elements(page) == elements(pages.register_page(*_offer_and_state("harmless")))
    assert inline("script", page) == pages.SCRIPT
    offer, _ = _offer_and_state(HOSTILE)
    success = pages.register_page(offer, pages.PageState(kind="success", values={"email": HOSTILE}))
    harmless = pages.register_page(
        _offer_and_state("x")[0], pages.PageState(kind="success", values={"email": "x"})
    )
    assert HOSTILE not in success and elements(success) == elements(harmless)


def test_states() -> None:
    form = pages.register_page(OFFER)
    assert '<form id="register-form"' in form and 'id="success" class="success"' in form
    assert re.search(r'<section id="success"[^>]*hidden>', form)
    done = pages.register_page(
        OFFER,
        pages.PageState(
            kind="success",
            message="Registration received: check your email.",
            values={"email": "ada@example.com"},
            expires_at=datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
        ),
    )
    assert "<form" not in done and 'class="ok"' in done
    assert (
        '<time id="success-expiry" datetime="2030-01-02T03:04:00+00:00">02 January 2030, 03:04 UTC'
        in done
    )
    nothing = pages.register_page(None, pages.PageState(kind="error", message="No product"))
    assert "<form" not in nothing and 'class="error">No product</div>' in nothing


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (2900, "EUR", "€29.00"),
        (123456, "USD", "$1,234.56"),
        (500, "JPY", "¥500"),
        (999, "SEK", "9.99 SEK"),
    ],
)
def test_money(amount: int, currency: str, text: str) -> None:
    assert pages.money(amount, currency) == text


def test_prices() -> None:
    assert pages.prices(OFFER) == ["€29.00 per month", "€290.00 per year"]
    free = Offer(**{**OFFER.__dict__, "monthly_price": 0, "annual_price": 0})
    assert pages.prices(free) == ["Free"]
    monthly = Offer(**{**OFFER.__dict__, "billing_periods": ("monthly",)})
    assert pages.prices(monthly) == ["€29.00 per month"]
    unset = Offer(**{**OFFER.__dict__, "annual_price": None})  # a period without its price
    assert pages.prices(unset) == ["€29.00 per month"]
    free_monthly = Offer(**{**OFFER.__dict__, "monthly_price": 0, "annual_price": None})
    assert pages.prices(free_monthly) == ["Free"]
    zero_and_priced = Offer(**{**OFFER.__dict__, "monthly_price": 0})
    assert pages.prices(zero_and_priced) == ["€0.00 per month", "€290.00 per year"]


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("application/json", False),
        ("application/json, text/html;q=0.5", False),
        ("text/html;q=0.9, application/json;q=0.8", True),
        ("*/*", False),
        ("", False),
        ("text/*", True),
        ("text/html;q=0", False),
        ("text/html;q=bogus", False),
    ],
)
def test_wants_html(accept: str, html: bool) -> None:
    assert pages.wants_html({"accept": accept}) is html


def event(
    body: str | None, content_type: str, accept: str, query: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "headers": {"content-type": content_type, "accept": accept},
        "queryStringParameters": query,
        "body": body,
        "isBase64Encoded": False,
    }


def wrapped(response: dict[str, Any], **options: Any) -> Any:
    offers: list[tuple[str, str]] = []

    def find(product: str, tier: str) -> Offer | None:
        offers.append((product, tier))
        return OFFER if product == "Rdn.Identity" else None

    handler = pages.html_errors(find, **options)(lambda event, context: response)
    return handler, offers


def test_a_browser_gets_problems_as_the_page_with_the_form_filled_in() -> None:
    problem = problem_response(
        422,
        "VALIDATION_FAILED",
        "Validation failed",
        "the body does not match the schema",
        extensions={"errors": [{"path": "body.email", "message": "Value error, not a valid email address", "type": "value_error"}]},
        **IDS,
    )  # fmt: skip
    handler, offers = wrapped(problem)
    form = "email=%3Cb%3E&emailConfirmation=x&productCode=Rdn.Identity&tierCode=pro"
    response = handler(event(form, "application/x-www-form-urlencoded", "text/html"), None)
    assert response["statusCode"] == 422
    assert response["headers"]["content-type"] == "text/html; charset=utf-8"
    assert response["headers"]["content-security-policy"] == pages.CONTENT_SECURITY_POLICY
    page = response["body"]
    assert offers == [("Rdn.Identity", "pro")]
    assert 'value="&lt;b&gt;"' in page and "<b>" not in page
    assert '<p class="field-error" id="email-error">Not a valid email address</p>' in page
    assert "Please correct the highlighted field." in page
    assert "Reference for support: <code>req-9</code>." in page  # the problem's requestId


def test_json_clients_keep_the_problem_and_get_retry_after() -> None:
    problem = problem_response(
        429,
        "RATE_LIMITED",
        "Rate limited",
        "too many attempts",
        extensions={"retryAfterSeconds": 42},
        **IDS,
    )
    handler, offers = wrapped(problem)
    response = handler(event('{"email": "a@b.c"}', "application/json", "application/json"), None)
    assert response["headers"]["content-type"] == "application/problem+json"
    assert response["headers"]["retry-after"] == "42"
    assert json.loads(response["body"])["code"] == "RATE_LIMITED" and offers == []
    page = handler(event("email=a%40b.c", "application/x-www-form-urlencoded", "text/html"), None)
    assert page["statusCode"] == 429 and page["headers"]["retry-after"] == "42"
    assert "Too many attempts." in page["body"]


def test_page_routes_render_every_problem_and_successes_pass_through() -> None:
    problem = problem_response(404, "PRODUCT_NOT_FOUND", "Not found", "no product 'x'", **IDS)
    handler, offers = wrapped(problem, always=True)
    response = handler(event(None, "", "*/*", {"product": "x", "tier": "free"}), None)
    assert response["statusCode"] == 404 and "No product &#x27;x&#x27;." in response["body"]
    assert "<form" not in response["body"] and offers == [("x", "free")]
    ok = {"statusCode": 200, "headers": {"content-type": "text/html"}, "body": "page"}
    handler, _ = wrapped(ok, always=True)
    assert handler(event(None, "", "text/html"), None) is ok


@pytest.mark.parametrize(
    "body",
    ["%ff%fe", "not json", '["list"]', "x" * 20_000, None],
)
def test_unreadable_bodies_still_render_a_page(body: str | None) -> None:
    problem = problem_response(
        400, "MALFORMED_FORM", "Malformed form", "the body is not valid", **IDS
    )
    handler, _ = wrapped(problem)
    for content_type in ("application/x-www-form-urlencoded", "application/json"):
        response = handler(event(body, content_type, "text/html"), None)
        assert response["statusCode"] == 400 and "The body is not valid." in response["body"]


def _done() -> str:
    return pages.register_page(
        OFFER,
        pages.PageState(kind="success", values={"email": "ada@example.com"}),
    )


def test_the_success_page_leads_to_the_portal(monkeypatch: pytest.MonkeyPatch) -> None:
    from licensing_core.settings import reset_settings

    assert '<a id="portal-link" href="console/">Sign in and\nclaim your license</a>' in _done()
    monkeypatch.setenv("LICENSING_PORTAL_URL", "https://licenses.example.com/portal")
    reset_settings()
    assert 'href="https://licenses.example.com/portal"' in _done()
    assert 'timeStyle: "long"' in inline("script", _done())  # the deadline names its zone


def test_a_tier_for_sales_links_to_sales_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from licensing_core.settings import reset_settings

    state = pages.PageState(
        kind="error", message="Contact sales.", code="TIER_NOT_SELF_SERVICE", reference="r-1"
    )
    assert "sales-link" not in pages.register_page(OFFER, state)
    monkeypatch.setenv("LICENSING_SALES_URL", "https://example.com/sales?from=register&x=1")
    reset_settings()
    page = pages.register_page(OFFER, state)
    assert '<a id="sales-link" href="https://example.com/sales?from=register&amp;x=1">' in page
    other = pages.PageState(kind="error", message="No", code="PRODUCT_NOT_FOUND")
    assert "sales-link" not in pages.register_page(OFFER, other)
