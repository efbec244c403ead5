"""What every command receives: resolved settings, the output, a lazily built client.

Precedence, first wins:
  URL:   --url, --local (the server's state.json), $LICENSING_URL, the profile's ``url``
  token: --token, --local (a fresh admin token), $LICENSING_TOKEN, the profile's cached login
  local data directory: --data-dir, $LICENSING_LOCAL_DIR, ``.local`` found upwards from
  the current directory, then in the repository the CLI was installed from
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import cast

import httpx

from licensing_cli.auth import TokenCache, password_login
from licensing_cli.client import DEFAULT_TIMEOUT, ApiClient
from licensing_cli.config import (
    LocalServer,
    Profile,
    config_dir,
    find_local_dir,
    installed_repository,
    load_local_server,
    load_profile,
)
from licensing_cli.errors import UsageError, describe, step_up_remedy
from licensing_cli.output import Output


@dataclass(frozen=True)
class Options:
    """The global options (valid before or after the command)."""

    url: str | None = None
    token: str | None = None
    profile: str | None = None
    local: bool = False
    mfa: bool = False
    data_dir: Path | None = None  #: None: found (see :func:`find_local_dir`)
    json: bool = False
    timeout: float = DEFAULT_TIMEOUT


def local_mfa(data_dir: Path) -> Callable[[str], str]:
    """``local.aws.with_mfa`` of the repository ``make run`` serves from: it re-signs a
    local Cognito token as if just signed in with MFA (moto's Cognito cannot do MFA).
    The console script may not have the repository on its path: it is looked for where
    the CLI was installed from, around the data directory, then in the current directory."""
    try:
        from local.aws import with_mfa
    except ImportError:
        places = (installed_repository(), data_dir.resolve().parent, Path.cwd())
        root = next((p for p in places if p and (p / "local" / "aws.py").is_file()), None)
        if root is None:
            raise UsageError(
                "--local --mfa needs the repository's `local` package",
                hint="install the CLI from the repository (pip install -e), or pass "
                '--token "$(python -m local token --mfa)"',
            ) from None
        sys.path.insert(0, str(root))
        from local.aws import with_mfa
    return cast(Callable[[str], str], with_mfa)


class Context:
    def __init__(
        self,
        options: Options,
        env: Mapping[str, str],
        out: Output,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.options = options
        self.env = env
        self.out = out
        self._transport = transport

    @cached_property
    def profile(self) -> Profile:
        return load_profile(self.options.profile, self.env)

    @cached_property
    def token_cache(self) -> TokenCache:
        return TokenCache(config_dir(self.env), self.profile.name)

    @cached_property
    def local_dir(self) -> Path:
        return find_local_dir(self.options.data_dir, self.env)

    @cached_property
    def local_server(self) -> LocalServer:
        return load_local_server(self.local_dir)

    @cached_property
    def url(self) -> str:
        if self.options.url:
            return self.options.url
        if self.options.local:
            return self.local_server.server_url
        url = self.env.get("LICENSING_URL") or self.profile.get("url")
        if not url:
            raise UsageError(
                "no API URL",
                hint="pass --url, set LICENSING_URL, add `url` to a profile, "
                "or use --local for `make run`'s server",
            )
        return url

    def token(self) -> str:
        """The bearer token to send (may log in to the local server's Cognito)."""
        if self.options.token:
            return self.options.token
        if self.options.local:
            server = self.local_server
            token = password_login(
                client_id=server.client_id,
                username=server.admin_username,
                password=server.admin_password,
                region=server.region,
                endpoint=server.aws_endpoint,
                method="local",
            ).access_token
            return local_mfa(self.local_dir)(token) if self.options.mfa else token
        return self.env.get("LICENSING_TOKEN") or self.token_cache.valid_token()

    def describe(self, error: BaseException) -> tuple[str, str | None]:
        """``(message, hint)`` for an error; a step-up challenge says what to do with
        the token in use (``--mfa`` when ``--local`` mints it, else ``login --mfa``)."""
        local = self.options.local and not self.options.token
        return describe(error, step_up_remedy(local=local, mfa=self.options.mfa))

    @cached_property
    def api(self) -> ApiClient:
        """A client carrying the token (routes that need none ignore it)."""
        url = self.url
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"the API URL must start with http:// or https://: {url}")
        return ApiClient(url, self.token(), timeout=self.options.timeout, transport=self._transport)

    @cached_property
    def public_api(self) -> ApiClient:
        """A client without credentials, for public routes (discovery)."""
        return ApiClient(self.url, timeout=self.options.timeout, transport=self._transport)

    def close(self) -> None:
        for name in ("api", "public_api"):
            client = self.__dict__.get(name)
            if client is not None:
                client.close()
