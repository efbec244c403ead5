"""What the browser suite shares: where Chromium is, how it is launched, where
artifacts go, and why tests skip without it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.client import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_WITHOUT_BROWSER = [
    pytest.mark.skipif(
        not CHROMIUM.is_file(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="the playwright package is missing: pip install playwright",
    ),
]
#: Screenshots and other artifacts (gitignored; CI uploads them).
ARTIFACTS = ROOT / "test-artifacts" / "browser"


def only_origin(context: BrowserContext, origin: str) -> list[str]:
    """Refuse every request of ``context`` that is not for ``origin`` (``http://host:port``);
    the returned list collects the refused URLs."""
    refused: list[str] = []
    prefix = f"{origin.rstrip('/')}/"

    def route(route: Route) -> None:
        if route.request.url.startswith(prefix):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", route)
    return refused
