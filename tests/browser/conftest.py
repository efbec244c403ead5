"""Browser tests: headless Chromium (Debian's ``chromium`` package) driven by Playwright
for Python, against a real ``python -m local`` server.

Playwright's own browser downloads are never used (``playwright install`` needs the
internet): the system Chromium is launched by path. Without it, or without the
``playwright`` package, every test here is skipped with the reason (``pytestmark`` of
each module: ``tests.browser.support.SKIP_WITHOUT_BROWSER``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.e2e.client import LocalServer, free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.browser.console import Tab


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One server for the browser session, on a free port (as in tests/e2e)."""
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    try:
        server = LocalServer.start(data_dir, "--port", str(free_port()))
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    code = server.stop()
    output = server.output()
    assert code == 0, f"the local server exited with {code}:\n{output}"
    assert "Traceback" not in output, f"the local server logged an error:\n{output}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module: Playwright's sync API holds an event loop on this thread while it is
    open, which would break later tests that run their own (asyncio.run)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def console_built() -> None:
    """The console's build is there and fresh (``make console``, as ``make test`` runs)."""
    from tests.browser.console import ensure_console_built

    ensure_console_built()


@pytest.fixture
def console_tab(browser: Browser, local_server: LocalServer, console_built: None) -> Iterator[Tab]:
    """A page of the console that may reach the local server only (see console.py)."""
    from tests.browser.console import open_tab

    with open_tab(browser, local_server) as tab:
        yield tab
