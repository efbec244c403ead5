"""The per-application data directory: small files written atomically, owner-only.

The directory is created ``0700`` and every file ``0600`` (on POSIX; Windows keeps the
ACL of the user's profile directory, which is private to the user by default).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from licensing_client.errors import ConfigurationError

FILE_MODE = 0o600
DIR_MODE = 0o700


def default_data_dir(app_name: str) -> Path:
    """The platform's per-user data directory for ``app_name``.

    Linux and other Unixes: ``$XDG_DATA_HOME/<app>`` (default ``~/.local/share/<app>``);
    macOS: ``~/Library/Application Support/<app>``; Windows: ``%LOCALAPPDATA%\\<app>``.
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / app_name
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / app_name
    xdg = os.environ.get("XDG_DATA_HOME")
    base_dir = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base_dir / app_name


class Storage:
    """Owner-only files in one directory; writes are atomic (temp file + rename)."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Storage({str(self.directory)!r})"

    def path(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"not a plain file name: {name!r}")
        return self.directory / name

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigurationError(
                f"cannot create the data directory {self.directory}: {error.strerror}",
                code="STORAGE_ERROR",
            ) from error

    def read_bytes(self, name: str) -> bytes | None:
        try:
            return self.path(name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise ConfigurationError(
                f"cannot read {name} in {self.directory}: {error.strerror}", code="STORAGE_ERROR"
            ) from error

    def write_bytes(self, name: str, data: bytes) -> None:
        target = self.path(name)
        with self._lock:
            self._ensure_directory()
            temporary = target.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}.tmp")
            try:
                flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
                fd = os.open(temporary, flags, FILE_MODE)
                try:
                    if hasattr(os, "fchmod"):
                        os.fchmod(fd, FILE_MODE)  # an old temp file may have had other bits
                    os.write(fd, data)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(temporary, target)
            except OSError as error:
                with contextlib.suppress(OSError):
                    temporary.unlink()
                raise ConfigurationError(
                    f"cannot write {name} in {self.directory}: {error.strerror}",
                    code="STORAGE_ERROR",
                ) from error

    def read_json(self, name: str) -> dict[str, Any] | None:
        data = self.read_bytes(name)
        if data is None:
            return None
        try:
            value = json.loads(data)
        except ValueError:
            return None  # a damaged file is treated as absent (and will be rewritten)
        return value if isinstance(value, dict) else None

    def write_json(self, name: str, value: dict[str, Any]) -> None:
        self.write_bytes(name, json.dumps(value, separators=(",", ":"), sort_keys=True).encode())

    def delete(self, name: str) -> None:
        with self._lock, contextlib.suppress(FileNotFoundError):
            self.path(name).unlink()
