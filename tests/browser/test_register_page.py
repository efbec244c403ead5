"""The registration page in a real browser: with JavaScript (fetch, in-place success and
error states, focus), without it (a plain form post answered with the page), and with
the strict Content-Security-Policy enforced (no violation, no script error)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.support import SKIP_WITHOUT_BROWSER
from tests.e2e.client import LocalServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request

pytestmark = SKIP_WITHOUT_BROWSER

PRODUCT = "Rdn.Identity"


@dataclass
class Tab:
    """A page in a fresh browser context, with what it logged and sent."""

    page: Page
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    posts: list[tuple[str, str]] = field(default_factory=list)  #: (url, content-type)


def _open(browser: Browser, *, javascript: bool) -> Iterator[Tab]:
    context = browser.new_context(java_script_enabled=javascript, locale="en-US")
    tab = Tab(context.new_page())

    def on_console(message: ConsoleMessage) -> None:
        tab.console.append(f"{message.type}: {message.text}")

    def on_request(request: Request) -> None:
        if request.method == "POST":
            tab.posts.append((request.url, request.headers.get("content-type", "")))

    tab.page.on("console", on_console)
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.page.on("request", on_request)
    yield tab
    context.close()
    violations = [line for line in tab.console if "Content Security Policy" in line]
    assert violations == [], violations
    assert tab.errors == [], tab.errors


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    yield from _open(browser, javascript=True)


@pytest.fixture
def tab_without_js(browser: Browser) -> Iterator[Tab]:
    yield from _open(browser, javascript=False)


def page_url(server: LocalServer, tier: str = "pro") -> str:
    return f"{server.base_url}/register?product={PRODUCT}&tier={tier}"


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def invited(server: LocalServer, email: str) -> list[dict[str, Any]]:
    state = server.state()
    users: list[dict[str, Any]] = server.cognito().list_users(
        UserPoolId=state["user_pool_id"], Filter=f'email = "{email}"'
    )["Users"]
    return users


def fill(page: Page, email: str, confirmation: str | None = None) -> None:
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Confirm email address", exact=True).fill(confirmation or email)
    page.get_by_role("button", name="Register").click()


def test_registering_with_javascript_shows_the_success_state(
    local_server: LocalServer, tab: Tab, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page = tab.page
    response = page.goto(page_url(local_server))
    assert response is not None and response.status == 200
    expect(page).to_have_title("Register for Rdn Identity Pro")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rdn Identity Pro")
    expect(page.locator(".price")).to_contain_text("€29.00 per month")
    page.screenshot(path=artifacts / "register-form.png", full_page=True)

    email = unique_email("browser")
    fill(page, email)
    success = page.get_by_role("heading", name="Check your email")
    expect(success).to_be_visible()
    expect(success).to_be_focused()
    expect(page.get_by_role("status")).to_have_text("Registration received: check your email.")
    expect(page.locator("#success-email")).to_have_text(email)
    expect(page.locator("#success-expiry")).not_to_be_empty()
    expect(page.locator("#register-form")).to_be_hidden()
    assert page.url == page_url(local_server)  # updated in place, no navigation
    assert tab.posts == [(f"{local_server.base_url}/register", "application/json")]
    page.screenshot(path=artifacts / "register-success.png", full_page=True)
    assert (artifacts / "register-success.png").stat().st_size > 0
    assert len(invited(local_server, email)) == 1


def test_javascript_catches_a_mismatch_before_sending_anything(
    local_server: LocalServer, tab: Tab
) -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.goto(page_url(local_server, "free"))
    fill(page, unique_email("one"), unique_email("two"))
    confirmation = page.get_by_label("Confirm email address", exact=True)
    expect(confirmation).to_have_attribute("aria-invalid", "true")
    expect(confirmation).to_be_focused()
    expect(page.locator("#emailConfirmation-error")).to_have_text("The two email addresses differ.")
    expect(page.get_by_role("status")).to_have_text("Please correct the highlighted field.")
    assert tab.posts == []


def test_javascript_shows_the_servers_refusal_on_the_field(
    local_server: LocalServer, tab: Tab, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.goto(page_url(local_server, "free"))
    with page.expect_response(lambda answer: answer.request.method == "POST") as refusal:
        fill(page, "ada@localhost")  # valid for the browser, not for the server
    email = page.get_by_label("Email address", exact=True)
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-error")).to_have_text("Not a valid email address")
    request_id = refusal.value.headers["apigw-requestid"]  # what support finds in the logs
    expect(page.get_by_role("status")).to_have_text(
        f"Please correct the highlighted field. Reference for support: {request_id}."
    )
    expect(page.get_by_role("button", name="Register")).to_be_enabled()
    page.screenshot(path=artifacts / "register-error.png", full_page=True)


def test_without_javascript_the_form_posts_and_the_page_answers(
    local_server: LocalServer, tab_without_js: Tab, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page = tab_without_js.page
    page.goto(page_url(local_server))
    email = unique_email("nojs")
    with page.expect_navigation() as navigation:
        fill(page, email)
    response = navigation.value
    assert response is not None and response.status == 202
    assert response.request.method == "POST"
    assert tab_without_js.posts == [
        (f"{local_server.base_url}/register", "application/x-www-form-urlencoded")
    ]
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Registration received: check your email.")
    expect(page.locator("#success-email")).to_have_text(email)
    page.screenshot(path=artifacts / "register-success-no-js.png", full_page=True)
    assert len(invited(local_server, email)) == 1


def test_without_javascript_a_refusal_is_the_page_in_its_error_state(
    local_server: LocalServer, tab_without_js: Tab
) -> None:
    from playwright.sync_api import expect

    page = tab_without_js.page
    page.goto(page_url(local_server, "free"))
    with page.expect_navigation() as navigation:
        fill(page, "ada@localhost", "ada@localhost")
    assert navigation.value is not None and navigation.value.status == 422
    email = page.get_by_label("Email address", exact=True)
    expect(email).to_have_value("ada@localhost")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-error")).to_have_text("Not a valid email address")
    request_id = navigation.value.headers["apigw-requestid"]
    expect(page.get_by_role("status")).to_have_text(
        f"Please correct the highlighted field. Reference for support: {request_id}."
    )


def test_a_tier_not_open_to_self_service_has_no_form(local_server: LocalServer, tab: Tab) -> None:
    from playwright.sync_api import expect

    page = tab.page
    response = page.goto(page_url(local_server, "enterprise"))
    assert response is not None and response.status == 422
    expect(page.get_by_role("status")).to_contain_text("cannot be registered for online")
    expect(page.locator("form")).to_have_count(0)
