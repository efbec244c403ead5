"""Where the CLI finds its settings: the profile file and a local server's state.

Profiles live in ``$XDG_CONFIG_HOME/licensing/config.toml`` (default
``~/.config/licensing/config.toml``), one table per profile::

    [default]
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com"
    region = "eu-west-1"
    client_id = "4example0clientid"
    username = "admin@example.com"

    [ci]
    url = "https://licensing.example.com"
    client_id = "machine-client"
    token_url = "https://example.auth.eu-west-1.amazoncognito.com/oauth2/token"
    scope = "licensing/admin"
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from licensing_cli.errors import ServiceUnavailable, UsageError

DEFAULT_PROFILE = "default"
PROFILE_KEYS = frozenset(
    {"url", "region", "client_id", "username", "cognito_endpoint", "token_url", "scope"}
)
LOCAL_STATE_FILE = "state.json"
LOCAL_STATE_VERSION = 1
#: The environment variable naming the local server's data directory.
LOCAL_DIR_ENV = "LICENSING_LOCAL_DIR"
#: The data directory ``make run`` uses, in the repository root.
LOCAL_DIR_NAME = ".local"


def config_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/licensing``, else ``~/.config/licensing``."""
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "licensing"


@dataclass(frozen=True)
class Profile:
    """One table of the profile file (empty when the file or the table is absent)."""

    name: str
    values: Mapping[str, str] = field(default_factory=dict)
    path: Path | None = None

    def get(self, key: str) -> str | None:
        return self.values.get(key)


def load_profile(name: str | None, env: Mapping[str, str]) -> Profile:
    """The profile ``name`` (else ``$LICENSING_PROFILE``, else ``default``).

    A profile asked for by name must exist; the default one may be missing."""
    chosen = name or env.get("LICENSING_PROFILE") or DEFAULT_PROFILE
    path = config_dir(env) / "config.toml"
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        document = {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from error
    table = document.get(chosen)
    if table is None:
        if chosen != DEFAULT_PROFILE:
            known = ", ".join(sorted(document)) or "none"
            raise UsageError(f"no profile [{chosen}] in {path} (profiles: {known})")
        return Profile(chosen, {}, path)
    if not isinstance(table, dict):
        raise UsageError(f"[{chosen}] in {path} must be a table")
    unknown = sorted(set(table) - PROFILE_KEYS)
    if unknown:
        raise UsageError(
            f"unknown key(s) {', '.join(unknown)} in [{chosen}] of {path}",
            hint=f"known keys: {', '.join(sorted(PROFILE_KEYS))}",
        )
    return Profile(chosen, {key: str(value) for key, value in table.items()}, path)


@dataclass(frozen=True)
class LocalServer:
    """What ``make run`` (``python -m local``) leaves in its data directory."""

    pid: int
    server_url: str
    aws_endpoint: str
    region: str
    client_id: str
    admin_username: str
    admin_password: str


def installed_repository() -> Path | None:
    """The repository checkout this package runs from (``pip install -e``, or the source
    tree on the path); None when installed as a plain package."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "local" / "__main__.py").is_file() else None


def find_local_dir(explicit: Path | None, env: Mapping[str, str], cwd: Path | None = None) -> Path:
    """The local server's data directory, first found wins: ``--data-dir``,
    ``$LICENSING_LOCAL_DIR``, then the first ``.local`` holding a ``state.json`` in the
    current directory or one of its parents, then in the repository this CLI was
    installed from (so ``--local`` works from anywhere on the machine that ran ``make run``)."""
    if explicit is not None:
        return explicit
    if env.get(LOCAL_DIR_ENV):
        return Path(env[LOCAL_DIR_ENV])
    here = cwd or Path.cwd()
    places = [here, *here.parents]
    repository = installed_repository()
    if repository is not None and repository not in places:
        places.append(repository)
    for place in places:
        if (place / LOCAL_DIR_NAME / LOCAL_STATE_FILE).is_file():
            return place / LOCAL_DIR_NAME
    searched = f"{here} or its parents" + (f", nor in {repository}" if repository else "")
    raise UsageError(
        f"no local server found: no {LOCAL_DIR_NAME}/{LOCAL_STATE_FILE} in {searched}",
        hint=f"start one with `make run`, or name its data directory with --data-dir "
        f"or {LOCAL_DIR_ENV}",
    )


def load_local_server(data_dir: Path) -> LocalServer:
    """Read ``<data_dir>/state.json`` of a running local server.

    The CLI reads the file itself (rather than importing ``local.state``) because it
    is installed as a package of its own, without the repository's ``local`` tree."""
    path = data_dir.expanduser() / LOCAL_STATE_FILE
    start = f"start it with `make run` (or name the right one: --data-dir or {LOCAL_DIR_ENV})"
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise UsageError(f"no {path}: no local server has run with this data dir", start) from error
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read {path}: {error}") from error
    try:
        if raw.get("version") != LOCAL_STATE_VERSION:
            raise UsageError(f"{path} has unsupported version {raw.get('version')!r}")
        admin = raw["accounts"]["admin"]
        server = LocalServer(
            pid=int(raw["pid"]),
            server_url=str(raw["server_url"]),
            aws_endpoint=str(raw["aws_endpoint"]),
            region=str(raw["region"]),
            client_id=str(raw["client_id"]),
            admin_username=str(admin["username"]),
            admin_password=str(admin["password"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UsageError(f"damaged {path}: {error}") from error
    if not _alive(server.pid):
        raise ServiceUnavailable(
            f"the local server (pid {server.pid}, {server.server_url}) is not running", start
        )
    return server


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
