"""Answers the service gives that its committed OpenAPI document does not list yet.

Each entry is demonstrated by an xfail test in ``test_documented_statuses.py``; the fuzz
suite tolerates exactly these, so any *new* undocumented status fails it. When the
document is fixed, the xfail tests pass (strict: they fail), and both go.
"""

from __future__ import annotations

#: ``(method, path) -> statuses answered but not documented``.
UNDOCUMENTED_STATUSES: dict[tuple[str, str], frozenset[int]] = {}

#: Operations whose problems are HTML pages (documented as ``application/problem+json``).
HTML_PROBLEMS: frozenset[tuple[str, str]] = frozenset({("GET", "/register")})
