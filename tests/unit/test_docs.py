"""The documentation page and its files: all from this origin, named by their content,
served from a fixed list only, gzip when the client accepts it."""

from __future__ import annotations

import gzip
import hashlib
from html.parser import HTMLParser

import pytest
from licensing_core.domain.errors import NotFound
from licensing_core.http import docs
from swagger_ui_bundle import swagger_ui_path


class _Links(HTMLParser):
    """Every URL the page makes the browser load or offers as a link."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.loads.append(str(found["src"]))
        elif tag == "link" and found.get("href"):
            self.loads.append(str(found["href"]))
        elif tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))


def _links() -> _Links:
    parser = _Links()
    parser.feed(docs.page())
    return parser


def test_the_page_loads_only_its_own_files_by_relative_urls() -> None:
    loads = [url for url in _links().loads if url != "data:,"]  # the empty favicon
    assert sorted(loads) == sorted(f"docs/{name}" for name in docs.assets())
    assert docs.CONTENT_SECURITY_POLICY.startswith("default-src 'none';")


def test_the_page_links_the_document_before_any_script_runs() -> None:
    assert _links().links == ["openapi.json"]
    assert '<p id="docs-fallback">' in docs.page()


def test_swagger_ui_files_are_the_packages_under_their_digest() -> None:
    for file_name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        data = (swagger_ui_path / file_name).read_bytes()
        stem, extension = file_name.rsplit(".", 1)
        name = f"{stem}.{hashlib.sha256(data).hexdigest()[:16]}.{extension}"
        assert docs.assets()[name].data == data


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip, deflate, br", True),
        ("GZIP", True),
        ("gzip;q=0.5", True),
        ("*", True),
        ("br;q=1, gzip;q=0", False),
        ("*;q=0.1, gzip;q=0", False),
        ("gzip;q=nonsense", False),
        ("identity", False),
        ("", False),
    ],
)
def test_accept_encoding(header: str, accepted: bool) -> None:
    assert docs.accepts_gzip(header) is accepted


def test_a_large_file_is_gzipped_for_clients_that_accept_it() -> None:
    (name,) = [name for name in docs.assets() if name.startswith("swagger-ui-bundle.")]
    body, headers = docs.asset_response(name, "gzip, deflate")
    assert headers["content-encoding"] == "gzip" and headers["vary"] == "accept-encoding"
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert gzip.decompress(body) == docs.assets()[name].data
    assert len(body) < len(docs.assets()[name].data) / 3

    plain, plain_headers = docs.asset_response(name, "identity")
    assert plain == docs.assets()[name].data and "content-encoding" not in plain_headers


def test_the_small_init_script_is_never_gzipped() -> None:
    (name,) = [name for name in docs.assets() if name.startswith("docs.")]
    body, headers = docs.asset_response(name, "gzip")
    assert "content-encoding" not in headers and b"SwaggerUIBundle" in body


@pytest.mark.parametrize(
    "name", ["swagger-ui-bundle.js", "swagger-ui.css", "index.html", "..", "favicon-32x32.png"]
)
def test_only_the_listed_names_are_served(name: str) -> None:
    with pytest.raises(NotFound):
        docs.asset_response(name, "gzip")
