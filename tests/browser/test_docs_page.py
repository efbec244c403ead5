"""``/docs`` in a real browser with every request to another origin refused: Swagger UI
renders from the service's own files, under its CSP, and when its files cannot load the
page still says where the OpenAPI document is."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.support import SKIP_WITHOUT_BROWSER, only_origin
from tests.e2e.client import LocalServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response

pytestmark = SKIP_WITHOUT_BROWSER


@dataclass
class Tab:
    """A page whose requests may only reach the server's origin."""

    page: Page
    foreign: list[str] = field(default_factory=list)  #: refused: another origin
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)  #: url -> content-encoding


@pytest.fixture
def tab(browser: Browser, local_server: LocalServer) -> Iterator[Tab]:
    context = browser.new_context(locale="en-US")
    tab = Tab(context.new_page())
    tab.foreign = only_origin(context, local_server.base_url)

    def on_console(message: ConsoleMessage) -> None:
        tab.console.append(f"{message.type}: {message.text}")

    def on_response(response: Response) -> None:
        tab.encodings[response.url] = response.headers.get("content-encoding", "")

    tab.page.on("console", on_console)
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.page.on("response", on_response)
    yield tab
    context.close()
    assert tab.foreign == [], tab.foreign
    assert tab.errors == [], tab.errors


def test_swagger_ui_renders_from_this_origin_alone(
    local_server: LocalServer, tab: Tab, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    document = local_server.request("GET", "/openapi.json").body
    operations = sum(len(methods) for methods in document["paths"].values())
    page = tab.page
    response = page.goto(f"{local_server.base_url}/docs")
    assert response is not None and response.status == 200

    expect(page.locator(".opblock")).to_have_count(operations, timeout=30_000)
    expect(page.locator("#operations-catalog-create_product")).to_be_visible()
    expect(page.locator("#operations-discovery-docs_asset")).to_be_visible()
    expect(page.locator("#docs-fallback")).to_have_count(0)  # replaced by Swagger UI
    page.screenshot(path=artifacts / "docs.png")

    assets = [url for url in tab.encodings if "/docs/" in url]
    assert len(assets) == 3, tab.encodings
    (bundle,) = [url for url in assets if "/docs/swagger-ui-bundle." in url]
    assert tab.encodings[bundle] == "gzip"  # Chromium accepts it; the gateway passes it on
    assert [line for line in tab.console if line.startswith("error")] == []


@pytest.mark.parametrize("blocked", ["**/docs/*", "**/docs/swagger-ui*"])
def test_without_its_files_the_page_links_the_document(
    local_server: LocalServer, tab: Tab, blocked: str
) -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.route(blocked, lambda route: route.abort("blockedbyclient"))
    page.goto(f"{local_server.base_url}/docs")
    page.wait_for_load_state("load")

    link = page.get_by_role("link", name="openapi.json")
    expect(link).to_be_visible()
    expect(page.locator("#docs-fallback")).to_contain_text("OpenAPI document")
    assert link.evaluate("a => a.href") == f"{local_server.base_url}/openapi.json"
    expect(page.locator(".opblock")).to_have_count(0)
