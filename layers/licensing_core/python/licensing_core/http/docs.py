"""The Swagger UI page of ``GET /docs`` and the files it loads from ``GET /docs/{asset}``.

Nothing comes from another origin: Swagger UI's files are those of the
``swagger-ui-bundle-v2`` package (swagger-ui-dist's, byte for byte), a runtime
dependency and so part of the dependency layer. Every file's name carries a digest of
its content, so it is cached for a year and a new release is a new name; the page
itself is cached for five minutes. All URLs are relative: the page works under an API
Gateway stage or a custom domain's base path.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache, cached_property

from swagger_ui_bundle import swagger_ui_path

from licensing_core.domain.errors import NotFound

#: Swagger UI's files the page loads.
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")
#: Our own script: starts Swagger UI once its bundle has loaded; when it has not, the
#: page's link to the document stays. No validator badge (it is another origin).
_INIT = (
    '"use strict";\n'
    "if (window.SwaggerUIBundle) {\n"
    '  window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", '
    "deepLinking: true, persistAuthorization: false, validatorUrl: null});\n"
    "}\n"
)
_CONTENT_TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
#: Below this, gzip saves too little to be worth the base64 and the CPU.
_GZIP_MIN_BYTES = 1024

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
PAGE_CACHE_CONTROL = "public, max-age=300"
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    """One file of the page, under its versioned name (``swagger-ui.<digest>.css``)."""

    name: str
    content_type: str
    data: bytes

    @cached_property
    def gzipped(self) -> bytes | None:
        """The gzip encoding, computed once per container; None when not worth it."""
        if len(self.data) < _GZIP_MIN_BYTES:
            return None
        return gzip.compress(self.data, compresslevel=6, mtime=0)


def _asset(file_name: str, data: bytes) -> Asset:
    stem, _, extension = file_name.rpartition(".")
    digest = hashlib.sha256(data).hexdigest()[:16]
    return Asset(f"{stem}.{digest}.{extension}", _CONTENT_TYPES[extension], data)


@cache
def _by_file() -> dict[str, Asset]:
    files = {name: (swagger_ui_path / name).read_bytes() for name in SWAGGER_FILES}
    files["docs.js"] = _INIT.encode()
    return {name: _asset(name, data) for name, data in files.items()}


@cache
def assets() -> dict[str, Asset]:
    """The page's files by versioned name: the only names ``GET /docs/{asset}`` serves."""
    return {asset.name: asset for asset in _by_file().values()}


def _url(file_name: str) -> str:
    """The page-relative URL of one of its files."""
    return f"docs/{_by_file()[file_name].name}"


@cache
def page() -> str:
    """The HTML of ``GET /docs``: until Swagger UI replaces it, a link to the document."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Licensing service API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{_url("swagger-ui.css")}">
</head>
<body>
<main id="swagger-ui">
<p id="docs-fallback">This API is described by its OpenAPI document,
<a href="openapi.json">openapi.json</a>. Its interactive view (Swagger UI) replaces
this text once its scripts have loaded.</p>
</main>
<script src="{_url("swagger-ui-bundle.js")}"></script>
<script src="{_url("docs.js")}"></script>
</body>
</html>
"""


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` header accepts gzip (``q=0`` refuses it)."""
    weights: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[coding] = weight
    return weights.get("gzip", weights.get("*", 0.0)) > 0


def asset_response(name: str, accept_encoding: str) -> tuple[bytes, dict[str, str]]:
    """The body and headers answering ``GET /docs/{name}``; NotFound for any other name."""
    asset = assets().get(name)
    if asset is None:
        raise NotFound(f"the documentation has no file {name!r}")
    headers = {
        "content-type": asset.content_type,
        "cache-control": ASSET_CACHE_CONTROL,
        "vary": "accept-encoding",
    }
    if asset.gzipped is not None and accepts_gzip(accept_encoding):
        return asset.gzipped, {**headers, "content-encoding": "gzip"}
    return asset.data, headers
