"""Logging in (Cognito challenges through botocore's Stubber, client credentials through
a mock transport) and the token cache. No sockets."""

from __future__ import annotations

import base64
import io
import json
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.stub import Stubber
from licensing_cli import auth
from licensing_cli.auth import Login, TokenCache, client_credentials_login, password_login
from licensing_cli.errors import AuthError
from licensing_cli.main import main

CLIENT_ID = "app-client"
RESULT = {"AuthenticationResult": {"AccessToken": "access-123", "ExpiresIn": 3600}}


@pytest.fixture
def cognito(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = auth.cognito_client("eu-west-1", None)
    stubber = Stubber(client)
    monkeypatch.setattr(auth, "cognito_client", lambda region, endpoint: client)
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def expect_initiate(stubber: Stubber, answer: dict[str, Any], **extra: str) -> None:
    stubber.add_response(
        "initiate_auth",
        answer,
        {
            "ClientId": CLIENT_ID,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "ada", "PASSWORD": "pw", **extra},
        },
    )


def recorder(prompts: list[str], code: str) -> Callable[[str], str]:
    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return code

    return ask


def challenge(name: str) -> dict[str, Any]:
    return {"ChallengeName": name, "Session": "s" * 20, "ChallengeParameters": {}}


def test_a_software_token_challenge_asks_for_the_code(cognito: Stubber) -> None:
    expect_initiate(cognito, challenge("SOFTWARE_TOKEN_MFA"))
    cognito.add_response(
        "respond_to_auth_challenge",
        RESULT,
        {
            "ClientId": CLIENT_ID,
            "ChallengeName": "SOFTWARE_TOKEN_MFA",
            "Session": "s" * 20,
            "ChallengeResponses": {"USERNAME": "ada", "SOFTWARE_TOKEN_MFA_CODE": "123456"},
        },
    )
    prompts: list[str] = []
    login = password_login(
        client_id=CLIENT_ID,
        username="ada",
        password="pw",
        region="eu-west-1",
        ask_code=recorder(prompts, " 123456 "),
    )
    assert login.access_token == "access-123" and login.mfa is True
    assert prompts == ["code from your authenticator app"]
    assert timedelta(minutes=59) < login.expires_at - datetime.now(UTC) <= timedelta(hours=1)


def test_sms_mfa_and_a_client_secret(cognito: Stubber) -> None:
    secret_hash = auth.secret_hash("ada", CLIENT_ID, "shh")
    expect_initiate(cognito, challenge("SMS_MFA"), SECRET_HASH=secret_hash)
    cognito.add_response(
        "respond_to_auth_challenge",
        RESULT,
        {
            "ClientId": CLIENT_ID,
            "ChallengeName": "SMS_MFA",
            "Session": "s" * 20,
            "ChallengeResponses": {
                "USERNAME": "ada",
                "SECRET_HASH": secret_hash,
                "SMS_MFA_CODE": "999",
            },
        },
    )
    prompts: list[str] = []
    login = password_login(
        client_id=CLIENT_ID,
        username="ada",
        password="pw",
        region="eu-west-1",
        client_secret="shh",
        ask_code=recorder(prompts, "999"),
    )
    assert login.mfa is True and prompts == ["code sent to your phone by SMS"]


def test_a_wrong_code_and_a_wrong_password_are_auth_errors(cognito: Stubber) -> None:
    expect_initiate(cognito, challenge("SOFTWARE_TOKEN_MFA"))
    cognito.add_client_error("respond_to_auth_challenge", "CodeMismatchException", "bad code")
    with pytest.raises(AuthError, match="MFA code was wrong"):
        password_login(
            client_id=CLIENT_ID,
            username="ada",
            password="pw",
            region="eu-west-1",
            ask_code=lambda p: "1",
        )
    cognito.add_client_error(
        "initiate_auth", "NotAuthorizedException", "Incorrect username or password."
    )
    with pytest.raises(AuthError, match="Incorrect username or password"):
        password_login(client_id=CLIENT_ID, username="ada", password="pw", region="eu-west-1")


def test_a_new_password_challenge_is_refused_clearly(cognito: Stubber) -> None:
    expect_initiate(cognito, challenge("NEW_PASSWORD_REQUIRED"))
    with pytest.raises(AuthError, match="new password"):
        password_login(client_id=CLIENT_ID, username="ada", password="pw", region="eu-west-1")


def test_login_mfa_through_the_command_caches_an_mfa_login(
    cognito: Stubber, tmp_path: Path
) -> None:
    expect_initiate(cognito, challenge("SOFTWARE_TOKEN_MFA"))
    cognito.add_response("respond_to_auth_challenge", RESULT)
    out, err = io.StringIO(), io.StringIO()
    env = {"XDG_CONFIG_HOME": str(tmp_path), "LICENSING_PASSWORD": "pw"}
    argv = ["login", "--mfa", "--mfa-code", "123456", "--username", "ada", "--client-id", CLIENT_ID]
    code = main(
        [*argv, "--region", "eu-west-1", "--profile", "default"], env=env, stdout=out, stderr=err
    )
    assert code == 0, err.getvalue()
    assert "MFA: yes" in out.getvalue()
    cached = TokenCache(tmp_path / "licensing", "default").load()
    assert cached is not None and cached.mfa and cached.access_token == "access-123"


def test_client_credentials_use_basic_auth_and_the_form() -> None:
    seen: list[httpx.Request] = []

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"access_token": "m2m", "expires_in": 600, "token_type": "Bearer"}
        )

    login = client_credentials_login(
        token_url="https://auth.test/oauth2/token",
        client_id="machine",
        client_secret="s3cret",
        scope="licensing/admin",
        transport=httpx.MockTransport(token_endpoint),
    )
    assert login.access_token == "m2m" and login.method == "client_credentials"
    expected = base64.b64encode(b"machine:s3cret").decode()
    assert seen[0].headers["authorization"] == f"Basic {expected}"
    assert seen[0].content == b"grant_type=client_credentials&scope=licensing%2Fadmin"

    refused = httpx.MockTransport(lambda r: httpx.Response(400, json={"error": "invalid_client"}))
    with pytest.raises(AuthError, match="invalid_client"):
        client_credentials_login(
            token_url="https://auth.test/oauth2/token",
            client_id="m",
            client_secret="x",
            transport=refused,
        )


def test_the_cache_is_private_and_refuses_expired_logins(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "licensing", "prod")
    with pytest.raises(AuthError, match=r"not logged in \(profile prod\)"):
        cache.valid_token()
    now = datetime.now(UTC).replace(microsecond=0)
    path = cache.save(Login("tok", now + timedelta(hours=1), "password", "ada", obtained_at=now))
    assert path == tmp_path / "licensing" / "tokens" / "prod.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert cache.valid_token() == "tok"
    cache.save(Login("old", now - timedelta(seconds=1), "password", "ada"))
    with pytest.raises(AuthError, match="expired at") as caught:
        cache.valid_token()
    assert caught.value.hint == "run `licensing login` again"
    path.write_text("{damaged")
    assert cache.load() is None
    with pytest.raises(Exception, match="invalid profile"):
        TokenCache(tmp_path, "../escape")


def test_region_is_found_in_endpoints() -> None:
    assert (
        auth.region_of(None, "https://x.auth.eu-west-1.amazoncognito.com/oauth2/token")
        == "eu-west-1"
    )
    assert auth.region_of("http://127.0.0.1:5000") is None


def test_unverified_claims_for_display() -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"sub": "a"}).encode()).decode().rstrip("=")
    assert auth.unverified_claims(f"h.{payload}.s") == {"sub": "a"}
    assert auth.unverified_claims("opaque") == {}
