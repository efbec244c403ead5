"""This machine: a stable, app-specific machine id and the machine's RSA key pair.

Machine id, first that applies:

1. the ``machine_id`` argument, used as given;
2. the ``LICENSING_MACHINE_ID`` environment variable, used as given (containers: set
   it to something stable per deployment, such as the pod's StatefulSet name);
3. the operating system's id: ``/etc/machine-id``, ``/var/lib/dbus/machine-id``
   (Linux), ``IOPlatformUUID`` from ``ioreg`` (macOS), ``MachineGuid`` under
   ``HKLM\\SOFTWARE\\Microsoft\\Cryptography`` (Windows);
4. a random id generated once and kept in the data directory (``machine-id``).

An OS id (3) or generated one (4) is never sent as is: the server receives
``HMAC-SHA256(key=os_id, message=app_name)`` in hex, so two apps on the same machine get
unrelated ids and the raw id does not leave the machine (the scheme of systemd's
``sd_id128_get_machine_app_specific``).

Beside its id, a machine tells the server its host name and platform (for the people who
administer it; ``describe_machine=False`` keeps them) and the application's version.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import platform
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from licensing_client.errors import ConfigurationError
from licensing_client.storage import Storage

MACHINE_ID_ENV = "LICENSING_MACHINE_ID"
LINUX_MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
IOREG = "/usr/sbin/ioreg"
KEY_FILE = "machine-key.pem"
GENERATED_ID_FILE = "machine-id"
KEY_SIZE = 2048
MAX_MACHINE_ID_LENGTH = 256
_MACHINE_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_MACHINE_ID_LENGTH}}}")


def _read_first_line(path: Path) -> str | None:
    try:
        value = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return value or None


def _macos_platform_uuid() -> str | None:
    if sys.platform != "darwin" or not Path(IOREG).exists():
        return None
    try:
        output = subprocess.run(  # noqa: S603 - fixed absolute path, fixed arguments
            [IOREG, "-rd1", "-c", "IOPlatformExpertDevice"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'"IOPlatformUUID"\s*=\s*"([^"]+)"', output)
    return match.group(1) if match else None


def _windows_machine_guid() -> str | None:
    if sys.platform != "win32":
        return None
    try:
        import winreg

        with winreg.OpenKey(  # type: ignore[attr-defined,unused-ignore]
            winreg.HKEY_LOCAL_MACHINE,  # type: ignore[attr-defined,unused-ignore]
            r"SOFTWARE\Microsoft\Cryptography",
            0,
            winreg.KEY_READ | winreg.KEY_WOW64_64KEY,  # type: ignore[attr-defined,unused-ignore]
        ) as key:
            value, _ = winreg.QueryValueEx(key, "MachineGuid")  # type: ignore[attr-defined,unused-ignore]
    except (ImportError, OSError):
        return None
    return str(value) if value else None


def os_machine_id() -> str | None:
    """The operating system's machine id, raw (never sent anywhere), or ``None``."""
    for path in LINUX_MACHINE_ID_FILES:
        value = _read_first_line(path)
        if value:
            return value
    return _macos_platform_uuid() or _windows_machine_guid()


def app_specific(raw_id: str, app_name: str) -> str:
    return hmac.new(raw_id.encode(), app_name.encode(), hashlib.sha256).hexdigest()


def machine_id(
    app_name: str,
    *,
    explicit: str | None = None,
    storage: Storage | None = None,
    os_id: Callable[[], str | None] = os_machine_id,
) -> str:
    """The machine id sent at activation (see the module documentation for the sources)."""
    value = explicit or os.environ.get(MACHINE_ID_ENV, "").strip()
    if value:
        if not _MACHINE_ID.fullmatch(value):
            raise ConfigurationError(
                f"a machine id is 1 to {MAX_MACHINE_ID_LENGTH} printable ASCII characters "
                "without spaces",
                code="INVALID_MACHINE_ID",
            )
        return value
    raw = os_id()
    if raw is None and storage is not None:
        stored = storage.read_bytes(GENERATED_ID_FILE)
        raw = stored.decode("ascii", "replace").strip() if stored else None
        if not raw:
            raw = uuid.uuid4().hex
            storage.write_bytes(GENERATED_ID_FILE, raw.encode())
    if raw is None:
        raise ConfigurationError(
            f"no machine id: pass machine_id= or set {MACHINE_ID_ENV}", code="NO_MACHINE_ID"
        )
    return app_specific(raw, app_name)


#: What the service accepts of each detail a machine gives of itself (characters).
DETAIL_LIMITS = {"hostname": 253, "platform": 128, "appVersion": 64}


def _printable(text: str, limit: int) -> str | None:
    """``text`` as the service accepts it: printable characters only, within ``limit``
    (never enough to refuse an activation), or ``None`` when nothing is left."""
    kept = "".join(c for c in text if c.isprintable()).strip()[:limit].strip()
    return kept or None


def details(*, describe: bool, app_version: str | None) -> dict[str, str]:
    """What this machine says of itself at activation: its host name and operating
    system (the standard library's ``socket.gethostname`` and ``platform.platform``)
    when ``describe``, and the application's version when given."""
    given = {"appVersion": app_version}
    if describe:
        given |= {"hostname": socket.gethostname(), "platform": platform.platform()}
    found = {name: _printable(value, DETAIL_LIMITS[name]) for name, value in given.items() if value}
    return {name: value for name, value in found.items() if value}


def generate_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def load_or_create_key(storage: Storage) -> rsa.RSAPrivateKey:
    """The machine's RSA-2048 private key, created on first use (PKCS#8 PEM, ``0600``)."""
    pem = storage.read_bytes(KEY_FILE)
    if pem is not None:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            key = None
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= KEY_SIZE:
            return key
    key = generate_private_key()
    storage.write_bytes(
        KEY_FILE,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return key


def public_key_pem(key: rsa.RSAPrivateKey) -> str:
    """The SubjectPublicKeyInfo PEM sent at activation."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
