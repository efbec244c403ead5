"""Where ``--local`` finds the local server, and how a step-up challenge is explained
with it. No server: state files are written here, and point at this very process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from licensing_cli import config
from licensing_cli.config import LOCAL_DIR_ENV, find_local_dir, load_local_server
from licensing_cli.errors import LOGIN_WITH_MFA, UsageError, step_up_remedy


def write_state(data_dir: Path, url: str = "http://127.0.0.1:1") -> Path:
    """A state.json as ``python -m local`` writes it, of a server that is "running"."""
    data_dir.mkdir(parents=True, exist_ok=True)
    state = {
        "version": 1,
        "pid": os.getpid(),
        "server_url": url,
        "aws_endpoint": "http://127.0.0.1:2",
        "region": "us-east-1",
        "client_id": "client",
        "accounts": {"admin": {"username": "admin", "password": "pw", "groups": []}},
    }
    (data_dir / "state.json").write_text(json.dumps(state))
    return data_dir


@pytest.fixture
def no_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if installed as a plain package: no repository to fall back to."""
    monkeypatch.setattr(config, "installed_repository", lambda: None)


def test_the_flag_then_the_environment_win_over_the_search(tmp_path: Path) -> None:
    write_state(tmp_path / ".local")
    flag, env_dir = tmp_path / "flag", tmp_path / "env"
    env = {LOCAL_DIR_ENV: str(env_dir)}
    assert find_local_dir(flag, env, cwd=tmp_path) == flag
    assert find_local_dir(None, env, cwd=tmp_path) == env_dir
    assert find_local_dir(None, {LOCAL_DIR_ENV: ""}, cwd=tmp_path) == tmp_path / ".local"


@pytest.mark.usefixtures("no_repository")
def test_the_nearest_dot_local_upwards_is_found(tmp_path: Path) -> None:
    outer = write_state(tmp_path / ".local", "http://127.0.0.1:11")
    inner = write_state(tmp_path / "project" / ".local", "http://127.0.0.1:22")
    deep = tmp_path / "project" / "src" / "deeper"
    deep.mkdir(parents=True)
    (tmp_path / "project" / "src" / ".local").mkdir()  # no state.json: not a server's
    assert find_local_dir(None, {}, cwd=deep) == inner
    assert load_local_server(find_local_dir(None, {}, cwd=deep)).server_url.endswith(":22")
    assert find_local_dir(None, {}, cwd=tmp_path / "project" / "src") == inner
    sibling = tmp_path / "other"
    sibling.mkdir()
    assert find_local_dir(None, {}, cwd=sibling) == outer


def test_the_repository_the_cli_was_installed_from_comes_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = tmp_path / "repo"
    expected = write_state(repository / ".local")
    monkeypatch.setattr(config, "installed_repository", lambda: repository)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert find_local_dir(None, {}, cwd=elsewhere) == expected
    nearer = write_state(elsewhere / ".local")
    assert find_local_dir(None, {}, cwd=elsewhere) == nearer


def test_this_checkout_is_the_installed_repository() -> None:
    root = config.installed_repository()
    assert root is not None and (root / "cli" / "licensing_cli" / "config.py").is_file()


@pytest.mark.usefixtures("no_repository")
def test_nothing_found_says_where_it_looked_and_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        find_local_dir(None, {}, cwd=tmp_path)
    assert f"no .local/state.json in {tmp_path} or its parents" in str(caught.value)
    assert "--data-dir" in str(caught.value.hint) and LOCAL_DIR_ENV in str(caught.value.hint)


def test_step_up_remedies() -> None:
    assert step_up_remedy(local=False, mfa=False) == LOGIN_WITH_MFA
    assert step_up_remedy(local=False, mfa=True) == LOGIN_WITH_MFA
    assert "the same command with --mfa" in step_up_remedy(local=True, mfa=False)
    assert "licensing login" not in step_up_remedy(local=True, mfa=True)
