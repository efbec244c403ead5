"""The console (``console/dist``, built by ``make console``) under ``/console``, served
as CloudFront serves it in AWS: hashed assets cached for good, every other path the
single page (``index.html``, the app routes in the browser), ``config.json`` from this
server's settings, and the same security headers (``console/headers.json``)."""

from __future__ import annotations

import gzip
import json
import mimetypes
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from local.aws import IdentityProvider
from local.gateway import Gateway, HttpRequest, HttpResponse
from local.oidc import PREFIX as OIDC_PREFIX
from local.oidc import Client, OidcFront

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_DIR = ROOT / "console"
DIST_DIR = CONSOLE_DIR / "dist"
HEADERS_FILE = CONSOLE_DIR / "headers.json"
PREFIX = "/console"
#: Hashed names: a changed file is a new URL, so browsers may keep each for good.
IMMUTABLE = "public, max-age=31536000, immutable"
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
_MIN_GZIP_BYTES = 1024


@cache
def _policy() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(HEADERS_FILE.read_text(encoding="utf-8"))
    return document


def security_headers(connect: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The console's headers: ``connect`` names the origins it may call beyond its own."""
    policy = _policy()
    csp = str(policy["contentSecurityPolicy"]).replace("{connect}", " ".join(connect)).strip()
    csp = csp.replace("'self' ;", "'self';")
    return [("content-security-policy", csp), *policy["headers"].items()]


@dataclass(frozen=True)
class _File:
    body: bytes
    gzipped: bytes | None
    content_type: str


def _content_type(path: Path) -> str:
    guessed = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css"}.get(
        path.suffix
    ) or (mimetypes.guess_type(path.name)[0] or "application/octet-stream")
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


class ConsoleFront:
    """Answers ``GET``/``HEAD`` under :data:`PREFIX`."""

    def __init__(self, config: Mapping[str, Any], dist_dir: Path = DIST_DIR) -> None:
        self.dist_dir = dist_dir.resolve()
        self.config = json.dumps(config, indent=2).encode()
        self.headers = security_headers()
        self._files: dict[Path, _File] = {}
        self._lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return self._plain(405, "Method not allowed", [("allow", "GET, HEAD")])
        try:
            path = unquote(request.path, errors="strict")
        except UnicodeDecodeError:
            return self._plain(404, "Not found")
        if path == PREFIX:
            return HttpResponse(308, [("location", f"{PREFIX}/")])
        relative = PurePosixPath(path.removeprefix(f"{PREFIX}/"))
        if any(part in ("..", ".") or part.startswith(".") for part in relative.parts):
            return self._plain(404, "Not found")
        if str(relative) == "config.json":
            return self._response(_File(self.config, None, "application/json"), "no-cache", request)
        if not (self.dist_dir / "index.html").is_file():
            return self._plain(
                503,
                "The console is not built: run `make console` (or `make run`, which builds it).",
            )
        found = self._file(self.dist_dir.joinpath(*relative.parts)) if relative.parts else None
        if found is not None:
            immutable = relative.parts[0] == "assets"
            return self._response(found, IMMUTABLE if immutable else "no-cache", request)
        if relative.parts[:1] == ("assets",):  # a missing asset is missing, not the app
            return self._plain(404, "Not found")
        index = self._file(self.dist_dir / "index.html")
        assert index is not None
        return self._response(index, "no-cache", request)

    def _file(self, path: Path) -> _File | None:
        """The file at ``path`` inside the build folder (read once), or None."""
        with self._lock:
            cached = self._files.get(path)
        if cached is not None:
            return cached
        try:
            resolved = path.resolve(strict=True)
        except OSError:
            return None
        if not resolved.is_relative_to(self.dist_dir) or not resolved.is_file():
            return None
        body = resolved.read_bytes()
        content_type = _content_type(resolved)
        compressible = content_type.startswith(_COMPRESSIBLE) and len(body) >= _MIN_GZIP_BYTES
        found = _File(body, gzip.compress(body, mtime=0) if compressible else None, content_type)
        if resolved.parent.name == "assets":  # hashed: never changes under this name
            with self._lock:
                self._files[path] = found
        return found

    def _response(self, found: _File, cache_control: str, request: HttpRequest) -> HttpResponse:
        headers = [
            ("content-type", found.content_type),
            ("cache-control", cache_control),
            ("vary", "accept-encoding"),
            *self.headers,
        ]
        accepts = ",".join(
            value for name, value in request.headers if name.lower() == "accept-encoding"
        )
        if found.gzipped is not None and "gzip" in accepts.lower():
            return HttpResponse(200, [*headers, ("content-encoding", "gzip")], found.gzipped)
        return HttpResponse(200, headers, found.body)

    def _plain(
        self, status: int, text: str, extra: list[tuple[str, str]] | None = None
    ) -> HttpResponse:
        headers = [("content-type", "text/plain; charset=utf-8"), *self.headers, *(extra or [])]
        return HttpResponse(status, headers, text.encode())


def console_config(server_url: str, idp: IdentityProvider) -> dict[str, Any]:
    """``config.json``: this server's API, and its local sign-in (:mod:`local.oidc`)."""
    return {
        "apiUrl": server_url,
        "oidc": {
            "issuer": idp.issuer,
            "clientId": idp.client_id,
            "scope": "openid email profile",
            "discoveryUrl": f"{server_url}{OIDC_PREFIX}/.well-known/openid-configuration",
            "logout": "oidc",
            "bearer": "access",
        },
    }


def mount(gateway: Gateway, *, server_url: str, aws_endpoint: str, idp: IdentityProvider) -> None:
    """Serve the console and its sign-in beside the API. The console uses the pool's one
    public client locally (in AWS it has its own, with OAuth and its callback URLs)."""
    home = f"{server_url}{PREFIX}/"
    client = Client(idp.client_id, frozenset({f"{home}callback"}), frozenset({home}))
    gateway.mount(
        OIDC_PREFIX,
        OidcFront(server_url=server_url, aws_endpoint=aws_endpoint, idp=idp, clients=[client]),
    )
    gateway.mount(PREFIX, ConsoleFront(console_config(server_url, idp)))
