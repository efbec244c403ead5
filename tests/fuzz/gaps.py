"""Answers the service gives that its committed OpenAPI document does not list yet.

Each entry is demonstrated by an xfail test in ``test_documented_statuses.py``; the fuzz
suite tolerates exactly these, so any *new* undocumented status fails it. When the
document is fixed, the xfail tests pass (strict: they fail), and both go.
"""

from __future__ import annotations

#: ``(method, path) -> statuses answered but not documented``.
UNDOCUMENTED_STATUSES: dict[tuple[str, str], frozenset[int]] = {
    ("POST", "/license-activations/activate"): frozenset({200, 403}),
    ("POST", "/license-keys/heartbeat"): frozenset({403, 404, 410}),
    ("POST", "/usage"): frozenset({403, 404, 410, 429}),
    ("POST", "/user/claim-license"): frozenset({404, 410}),
    ("GET", "/register"): frozenset({404}),
    ("POST", "/register"): frozenset({429}),
}

#: Operations whose problems are HTML pages (documented as ``application/problem+json``).
HTML_PROBLEMS: frozenset[tuple[str, str]] = frozenset({("GET", "/register")})
