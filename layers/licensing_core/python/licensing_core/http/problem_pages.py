"""``GET /problems/{slug}``: the page a problem's ``type`` points at, one per code of
:mod:`licensing_core.http.problem_catalog`; static, accessible HTML under a strict CSP."""

from __future__ import annotations

import base64
import hashlib
import html
from functools import cache
from http import HTTPStatus

from licensing_core.domain.errors import NotFound
from licensing_core.http.endpoint import SECURITY_HEADERS, Reply
from licensing_core.http.problem_catalog import BY_SLUG, CATALOG

STYLE = """
:root { color-scheme: light dark; }
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin-top: 1.5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
PAGE_HEADERS = {
    **SECURITY_HEADERS,
    "content-type": "text/html; charset=utf-8",
    "cache-control": "public, max-age=3600",
    "content-security-policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _status(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


@cache
def page(code: str) -> str:
    """The HTML explaining ``code`` (a key of the catalog)."""
    entry = CATALOG[code]
    statuses = ", ".join(_status(status) for status in entry.statuses)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(entry.title)} ({_e(code)}): licensing service problem</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>{_e(entry.title)}</h1>
<dl>
<dt>Code</dt><dd><code>{_e(code)}</code></dd>
<dt>HTTP status</dt><dd>{_e(statuses)}</dd>
</dl>
<p>{_e(entry.explanation)}</p>
<h2>Asking for help</h2>
<p>Every problem this API answers carries a <code>requestId</code>, the same value as its
<code>apigw-requestid</code> response header. Quote it to support: it finds the request in
the service's logs.</p>
</main>
</body>
</html>
"""


def reply(slug: str) -> Reply:
    """The page of the code whose slug is ``slug``; NotFound for any other."""
    code = BY_SLUG.get(slug)
    if code is None:
        raise NotFound(f"no problem type {slug[:64]!r}")
    return Reply(page(code), headers=PAGE_HEADERS)
