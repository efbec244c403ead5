"""What the console's browser journeys share: a tab that may reach only the local server
(every other request is refused and recorded), that records console errors and page
errors, signs in through the local OIDC front, checks a page with axe-core, and keeps
screenshots."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from local.totp import STEP, hotp
from tests.browser.support import ARTIFACTS, only_origin
from tests.e2e.client import ROOT, LocalServer, call

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request

CONSOLE_DIR = ROOT / "console"
AXE = CONSOLE_DIR / "node_modules" / "axe-core" / "axe.min.js"
#: axe-core impacts that fail a page.
BLOCKING_IMPACTS = ("serious", "critical")
#: One-time code steps already sent, per account: the front accepts each code once.
_USED: dict[str, set[int]] = {}


def ensure_console_built() -> None:
    """Build the console when it is missing or stale (what ``make test`` does first)."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("node and npm are needed to build the console (apt-get install nodejs npm)")
    result = subprocess.run(
        ["make", "-s", "console"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"make console failed:\n{result.stdout}\n{result.stderr}", pytrace=False)


@dataclass
class Tab:
    """A page of the console with what it asked for and what it logged."""

    page: Page
    context: BrowserContext
    server: LocalServer
    foreign: list[str] = field(default_factory=list)  #: refused: not the local server's origin
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    expected_console: list[str] = field(default_factory=list)  #: substrings allowed once

    @property
    def console_url(self) -> str:
        return f"{self.server.base_url}/console/"

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"console-{name}.png"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=path, full_page=full_page)
        return path

    def allow_console(self, text: str) -> None:
        """An error the browser logs on its own for an expected answer (a 401 challenge)."""
        self.expected_console.append(text)

    def console_errors(self) -> list[str]:
        errors = [line for line in self.console if line.startswith(("error", "warning"))]
        unexpected = []
        allowed = list(self.expected_console)
        for line in errors:
            match = next((text for text in allowed if text in line), None)
            if match is None:
                unexpected.append(line)
            else:
                allowed.remove(match)
        return unexpected


@contextmanager
def open_tab(browser: Browser, server: LocalServer, **options: Any) -> Iterator[Tab]:
    """A fresh context (no cookies, no storage) whose requests may reach only the local
    server; on exit, no foreign request and no console or page error may have happened."""
    context = browser.new_context(
        locale="en-US", viewport={"width": 1280, "height": 900}, **options
    )
    tab = Tab(context.new_page(), context, server)

    def on_console(message: ConsoleMessage) -> None:
        where = message.location.get("url") or "?"
        tab.console.append(f"{message.type}: {message.text} ({where})")

    def on_request(request: Request) -> None:
        tab.requests.append(request.url)

    tab.foreign = only_origin(context, server.base_url)
    context.on("console", on_console)
    context.on("request", on_request)
    context.on("weberror", lambda error: tab.errors.append(str(error.error)))
    try:
        yield tab
    finally:
        context.close()
    assert tab.foreign == [], f"requests to other hosts: {tab.foreign}"
    hosts = {urlsplit(url).hostname for url in tab.requests}
    assert hosts <= {"127.0.0.1"}, f"hosts asked for: {hosts}"
    assert tab.errors == [], tab.errors
    assert tab.console_errors() == [], tab.console_errors()


def account(server: LocalServer, role: str) -> dict[str, Any]:
    accounts: dict[str, Any] = server.state()["accounts"]
    return accounts[role]  # type: ignore[no-any-return]


def current_code(server: LocalServer, role: str) -> str:
    """A one-time code of ``role``'s MFA that the front has not seen yet: the next step's
    when this step's was used (the front refuses a code twice)."""
    step = int(time.time() // STEP)
    secret = account(server, role)["mfa_secret"]
    used = _USED.setdefault(role, set())
    while step in used:
        step += 1
    used.add(step)
    return hotp(secret, step)


def fill_sign_in(page: Page, server: LocalServer, role: str, *, mfa: bool = False) -> None:
    """Fill and send the local sign-in form (already on screen in ``page``)."""
    from playwright.sync_api import expect

    credentials = account(server, role)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email address").fill(credentials["username"])
    page.get_by_label("Password").fill(credentials["password"])
    if mfa:
        page.get_by_label("One-time code").fill(current_code(server, role))
    page.get_by_role("button", name="Sign in").click()


def sign_in(tab: Tab, role: str, path: str = "") -> None:
    """Open the console at ``path`` and sign in as ``role`` through the local front."""
    from playwright.sync_api import expect

    page = tab.page
    page.goto(f"{tab.console_url}{path}")
    page.get_by_role("button", name="Sign in").click()
    fill_sign_in(page, tab.server, role)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def check_accessibility(tab: Tab, name: str) -> None:
    """axe-core on the page as it is: no serious or critical violation. Evaluated through
    the DevTools protocol, so the page's CSP (no inline script) stays enforced."""
    page = tab.page
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    blocking = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results
        if v["impact"] in BLOCKING_IMPACTS
    ]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(results, indent=2))
    assert blocking == [], f"{name}: {json.dumps(blocking, indent=2)}"


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def api(server: LocalServer, method: str, path: str, token: str, **kwargs: Any) -> Any:
    """One admin call that must succeed; its JSON body."""
    reply = call(method, f"{server.base_url}{path}", token=token, **kwargs)
    assert 200 <= reply.status < 300, (method, path, reply.status, reply.body)
    return reply.body


def tenant_of(server: LocalServer, role: str) -> str:
    """The tenant (``custom:tenant``) of a local account, as the local sign-in reads it."""
    user = server.cognito().admin_get_user(
        UserPoolId=server.state()["user_pool_id"], Username=account(server, role)["username"]
    )
    attributes = {item["Name"]: item["Value"] for item in user["UserAttributes"]}
    return attributes["custom:tenant"]


def licensed_machine(
    server: LocalServer,
    email: str,
    *,
    tenant: str | None = None,
    hostname: str = "build-01.example.net",
) -> dict[str, Any]:
    """A Pro license of the demo product for ``email`` (created with it) and one machine
    activated with its details; returns the issued license and the activation."""
    body: dict[str, Any] = {
        "productId": "Rdn.Identity",
        "tierId": "pro",
        "customerEmail": email,
        "perpetual": True,
    }
    if tenant is not None:
        body["tenantId"] = tenant
    issued = api(server, "POST", "/license-keys", server.admin_token, json_body=body)
    activation = call(
        "POST",
        f"{server.base_url}/license-activations/activate",
        json_body={
            "keyToken": issued["keyToken"],
            "machineId": f"machine-{uuid.uuid4().hex[:8]}",
            "hostname": hostname,
            "platform": "Linux-6.8-x86_64",
            "appVersion": "2.4.1",
        },
    )
    assert activation.status == 201, activation.body
    return {**issued, "activation": activation.body}


def step_up_in_popup(tab: Tab, role: str) -> None:
    """Answer the console's "confirm it's you" prompt: sign in again with MFA in the
    popup (the challenge's acr_values ask for the one-time code)."""
    from playwright.sync_api import expect

    page = tab.page
    prompt = page.get_by_role("dialog", name="Confirm it's you")
    expect(prompt).to_be_visible()
    expect(prompt).to_contain_text("multi-factor authentication, within the last 15 minutes")
    check_accessibility(tab, "step-up-prompt")
    with page.expect_popup() as opened:
        prompt.get_by_role("button", name="Sign in again").click()
    popup = opened.value
    expect(popup.get_by_label("One-time code")).to_be_visible()
    asked = parse_qs(urlsplit(popup.url).query)  # the challenge's acr_values and max_age
    assert (asked["acr_values"], asked["max_age"], asked["prompt"]) == (["mfa"], ["900"], ["login"])
    expect(popup.get_by_label("Email address")).to_have_value(account(tab.server, role)["username"])
    with popup.expect_event("close"):  # it hands the code back and closes itself
        fill_sign_in(popup, tab.server, role, mfa=True)
    expect(prompt).to_be_hidden()
    # Chromium logs the refused first attempt (the RFC 9470 challenge) on its own.
    tab.allow_console("the server responded with a status of 401")
