"""Logging in: Cognito ``InitiateAuth`` (with MFA challenges) or OAuth2 client
credentials, and the private cache of the resulting access token."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from licensing_cli.errors import AuthError, ServiceUnavailable, UsageError

if TYPE_CHECKING:
    from types_boto3_cognito_idp import CognitoIdentityProviderClient

#: A cached token this close to its expiry is treated as expired.
EXPIRY_MARGIN = timedelta(seconds=30)
#: Challenge name -> (response parameter, what to ask the user).
MFA_CHALLENGES: Mapping[str, tuple[str, str]] = {
    "SOFTWARE_TOKEN_MFA": ("SOFTWARE_TOKEN_MFA_CODE", "code from your authenticator app"),
    "SMS_MFA": ("SMS_MFA_CODE", "code sent to your phone by SMS"),
    "EMAIL_OTP": ("EMAIL_OTP_CODE", "code sent to you by email"),
}
_REGION = re.compile(r"\b([a-z]{2}(?:-gov)?-[a-z]+-\d)\b")

AskCode = Callable[[str], str]


@dataclass(frozen=True)
class Login:
    """An access token and what we know of how it was obtained."""

    access_token: str
    expires_at: datetime
    method: str  #: password, client_credentials or local
    subject: str  #: the username or the client id
    mfa: bool = False
    obtained_at: datetime | None = None

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) + EXPIRY_MARGIN >= self.expires_at

    def to_json(self) -> str:
        data = asdict(self)
        data["expires_at"] = self.expires_at.isoformat()
        data["obtained_at"] = self.obtained_at.isoformat() if self.obtained_at else None
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Login:
        data = json.loads(text)
        obtained = data.get("obtained_at")
        return cls(
            access_token=str(data["access_token"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            method=str(data["method"]),
            subject=str(data["subject"]),
            mfa=bool(data.get("mfa")),
            obtained_at=datetime.fromisoformat(obtained) if obtained else None,
        )


def _login(token: str, expires_in: Any, method: str, subject: str, *, mfa: bool) -> Login:
    now = datetime.now(UTC).replace(microsecond=0)
    return Login(
        access_token=token,
        expires_at=now + timedelta(seconds=int(expires_in or 3600)),
        method=method,
        subject=subject,
        mfa=mfa,
        obtained_at=now,
    )


# --- The token cache ---------------------------------------------------------------


class TokenCache:
    """``<config dir>/tokens/<profile>.json``: one login per profile, readable by its
    owner only (0600, in a 0700 directory)."""

    def __init__(self, directory: Path, profile: str) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", profile) or profile.startswith("."):
            raise UsageError(f"invalid profile name {profile!r}")
        self.path = directory / "tokens" / f"{profile}.json"
        self.profile = profile

    def save(self, login: Login) -> Path:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(temporary, flags, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write(login.to_json())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return self.path

    def load(self) -> Login | None:
        """The cached login, or None when there is none (a damaged file counts as none)."""
        try:
            return Login.from_json(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def valid_token(self) -> str:
        """The cached access token; refuses a missing or expired one, clearly."""
        login = self.load()
        if login is None:
            raise AuthError(
                f"not logged in (profile {self.profile})",
                hint="run `licensing login`, pass --token, set LICENSING_TOKEN, "
                "or use --local for `make run`'s server",
            )
        if login.expired():
            raise AuthError(
                f"the saved login of profile {self.profile} ({login.subject}) expired at "
                f"{login.expires_at:%Y-%m-%d %H:%M} UTC",
                hint="run `licensing login` again",
            )
        return login.access_token

    def clear(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True


# --- Cognito user/password (InitiateAuth) ---------------------------------------------


def region_of(*hints: str | None) -> str | None:
    """The first AWS region named in ``hints`` (a region, an endpoint, a pool id...)."""
    for hint in hints:
        if hint:
            found = _REGION.search(hint)
            if found:
                return found.group(1)
    return None


def cognito_client(region: str, endpoint: str | None) -> CognitoIdentityProviderClient:
    """An unsigned Cognito client: InitiateAuth needs no AWS credentials, so none of the
    caller's are looked up or sent."""
    import boto3  # slow to import; only logins need it
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(
        signature_version=UNSIGNED,
        connect_timeout=5,
        read_timeout=20,
        retries={"max_attempts": 2},
    )
    return boto3.session.Session().client(
        "cognito-idp", region_name=region, endpoint_url=endpoint or None, config=config
    )


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def password_login(
    *,
    client_id: str,
    username: str,
    password: str,
    region: str,
    endpoint: str | None = None,
    client_secret: str | None = None,
    ask_code: AskCode | None = None,
    method: str = "password",
) -> Login:
    """``InitiateAuth`` USER_PASSWORD_AUTH, answering MFA challenges with ``ask_code``."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = cognito_client(region, endpoint)
    extra = (
        {"SECRET_HASH": secret_hash(username, client_id, client_secret)} if client_secret else {}
    )
    mfa = False
    try:
        answer: Any = client.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password, **extra},
        )
        for _ in range(3):  # SELECT_MFA_TYPE, then the code, at most
            challenge = answer.get("ChallengeName")
            if not challenge:
                break
            responses = {"USERNAME": username, **extra}
            if challenge == "SELECT_MFA_TYPE":
                responses["ANSWER"] = "SOFTWARE_TOKEN_MFA"
            elif challenge in MFA_CHALLENGES:
                if ask_code is None:
                    raise AuthError(f"Cognito asks for an MFA code ({challenge})")
                parameter, prompt = MFA_CHALLENGES[challenge]
                responses[parameter] = ask_code(prompt).strip()
                mfa = True
            elif challenge == "NEW_PASSWORD_REQUIRED":
                raise AuthError(
                    "Cognito wants a new password for this user",
                    hint="set a permanent password first (Cognito hosted UI or an administrator)",
                )
            else:
                raise AuthError(f"unsupported Cognito challenge {challenge}")
            answer = client.respond_to_auth_challenge(
                ClientId=client_id,
                ChallengeName=challenge,
                Session=answer.get("Session", ""),
                ChallengeResponses=responses,
            )
    except ClientError as error:
        raise _cognito_refusal(error) from error
    except BotoCoreError as error:
        raise ServiceUnavailable(f"cannot reach Cognito: {error}") from error
    result = answer.get("AuthenticationResult") or {}
    if "AccessToken" not in result:
        raise AuthError("Cognito returned no access token")
    return _login(result["AccessToken"], result.get("ExpiresIn"), method, username, mfa=mfa)


def _cognito_refusal(error: Any) -> AuthError:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", str(error))
    if code in ("CodeMismatchException", "ExpiredCodeException"):
        return AuthError("the MFA code was wrong or has expired", hint="run the login again")
    if code in ("NotAuthorizedException", "UserNotFoundException"):
        return AuthError(f"Cognito refused the login: {message}")
    return AuthError(f"Cognito error {code}: {message}")


# --- OAuth2 client credentials ---------------------------------------------------------


def client_credentials_login(
    *,
    token_url: str,
    client_id: str,
    client_secret: str,
    scope: str | None = None,
    timeout: float = 20.0,
    transport: httpx.BaseTransport | None = None,
) -> Login:
    """The OAuth2 client credentials grant (RFC 6749 section 4.4) at ``token_url``."""
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    try:
        with httpx.Client(timeout=timeout, transport=transport) as http:
            response = http.post(token_url, data=form, auth=(client_id, client_secret))
    except httpx.HTTPError as error:
        raise ServiceUnavailable(f"cannot reach the token endpoint {token_url}: {error}") from error
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        reason = body.get("error_description") or body.get("error") or response.reason_phrase
        raise AuthError(f"the token endpoint refused the client credentials: {reason}")
    return _login(
        body["access_token"], body.get("expires_in"), "client_credentials", client_id, mfa=False
    )


# --- Reading a token (never trusting it: the server verifies) ---------------------------


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a JWS, for display only; {} when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return {}
    return payload if isinstance(payload, dict) else {}
