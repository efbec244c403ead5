"""What a running local server leaves in its data directory, written privately.

``state.json`` lets ``python -m local token`` reach the running server's moto;
it holds passwords of throwaway local users, so it is created 0600 like the
admin token file, inside a 0700 directory.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 - a file name
SIGNING_KEY_FILE = "signing-key.pem"
STATE_VERSION = 1


class StateError(RuntimeError):
    """No usable state: the server never ran here, or the file is damaged."""


@dataclass(frozen=True)
class Account:
    """A Cognito user of the local pool."""

    username: str
    password: str
    groups: tuple[str, ...] = ()
    #: Base32 TOTP secret of the account's MFA (the local sign-in checks codes).
    mfa_secret: str = ""


@dataclass(frozen=True)
class LocalState:
    """Everything needed to talk to a running local server."""

    pid: int
    server_url: str
    port: int
    aws_endpoint: str
    region: str
    user_pool_id: str
    client_id: str
    oidc_issuer: str
    accounts: dict[str, Account] = field(default_factory=dict)
    admin_token_path: str = ""
    started_at: str = ""
    version: int = STATE_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LocalState:
        try:
            raw: dict[str, Any] = json.loads(text)
            if raw.get("version") != STATE_VERSION:
                raise StateError(f"unsupported state version {raw.get('version')!r}")
            accounts = {
                role: Account(
                    value["username"],
                    value["password"],
                    tuple(value["groups"]),
                    value.get("mfa_secret", ""),
                )
                for role, value in raw.pop("accounts").items()
            }
            return cls(accounts=accounts, **raw)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise StateError(f"damaged state file: {error}") from error


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (0700) if missing; return it absolute."""
    path = path.expanduser().resolve()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def is_shared_dir(path: Path) -> bool:
    """Whether others than the owner may enter or list ``path``."""
    return bool(path.stat().st_mode & 0o077)


def write_private(path: Path, text: str) -> None:
    """Atomically replace ``path`` with ``text``, readable by the owner only (0600)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)  # left by a crash of a process with the same pid
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(temporary, flags, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, 0o600)  # exact, whatever the umask
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def save_state(data_dir: Path, state: LocalState) -> Path:
    path = data_dir / STATE_FILE
    write_private(path, state.to_json())
    return path


def load_state(data_dir: Path) -> LocalState:
    path = data_dir / STATE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise StateError(f"no {path}: the local server has not run with this --data-dir") from error
    return LocalState.from_json(text)
