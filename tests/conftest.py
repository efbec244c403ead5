"""Fixtures every suite shares: a clean, isolated configuration per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from licensing_core.domain.ids import set_clock
from licensing_core.settings import reset_settings


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test starts from the same LICENSING_* environment, and no AWS credentials leak in."""
    for name in list(os.environ):
        if name.startswith(("LICENSING_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("LICENSING_SIGNING_KEY_PATH", str(tmp_path / "keys" / "signing.pem"))
    monkeypatch.setenv("LICENSING_ISSUER", "https://licensing.test")
    reset_settings()
    yield
    set_clock(None)
    reset_settings()
