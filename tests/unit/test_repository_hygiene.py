"""No secret is ever committed: no private key, no token, no credential file."""

from __future__ import annotations

import re
import subprocess

from tests.support import ROOT

SECRET = re.compile(
    rb"-----BEGIN (RSA |EC |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"
    rb"|AKIA[0-9A-Z]{16}"  # an AWS access key id
    rb"|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}"  # a signed JWT
)


def test_no_tracked_file_holds_a_secret() -> None:
    files = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607 - git from PATH, as a developer runs it
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    leaks = []
    for name in filter(None, files):
        path = ROOT / name.decode()
        if path.is_file() and SECRET.search(path.read_bytes()):
            leaks.append(name.decode())
    assert leaks == []


def test_local_state_is_never_tracked() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".local/" in ignored and ".venv/" in ignored
