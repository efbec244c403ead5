"""The Cognito identity-provider adapter, against a fake of the Cognito API: the calls it
makes, how it reads answers, and how it maps failures."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from licensing_core.domain.errors import Unavailable, ValidationFailed
from licensing_core.identity.provider import (
    CognitoIdentityProvider,
    IdentityProvider,
    ProviderUser,
    get_identity_provider,
)
from licensing_core.settings import reset_settings


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class FakeCognito:
    """Just enough of ``cognito-idp``: users by username, ``ListUsers`` filters on
    ``email``/``sub``, and injectable failures."""

    def __init__(self, pool: str = "us-east-1_pool") -> None:
        self.pool = pool
        self.users: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail: dict[str, ClientError] = {}
        self.hide_from_list = False

    def _record(self, operation: str, kwargs: dict[str, Any]) -> None:
        assert kwargs.pop("UserPoolId") == self.pool
        self.calls.append((operation, kwargs))
        if operation in self.fail:
            raise self.fail.pop(operation)

    def add(
        self, username: str, email: str, *, status: str = "CONFIRMED", verified: bool = True
    ) -> str:
        sub = f"sub-{len(self.users) + 1}"
        self.users[username] = {
            "Username": username,
            "Attributes": [
                {"Name": "sub", "Value": sub},
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true" if verified else "false"},
            ],
            "Enabled": True,
            "UserStatus": status,
        }
        return sub

    def list_users(self, **kwargs: Any) -> dict[str, Any]:
        self._record("list_users", kwargs)
        name, _, value = kwargs["Filter"].partition(" = ")
        value = value.strip('"')
        found = [] if self.hide_from_list else [
            user for user in self.users.values()
            if {"Name": name, "Value": value} in user["Attributes"]
        ]  # fmt: skip
        return {"Users": found[: kwargs.get("Limit", 60)]}

    def admin_create_user(self, **kwargs: Any) -> dict[str, Any]:
        self._record("admin_create_user", kwargs)
        if kwargs["Username"] in self.users:
            raise client_error("UsernameExistsException", "AdminCreateUser")
        email = next(a["Value"] for a in kwargs["UserAttributes"] if a["Name"] == "email")
        self.add(kwargs["Username"], email, status="FORCE_CHANGE_PASSWORD")
        return {"User": self.users[kwargs["Username"]]}

    def admin_disable_user(self, **kwargs: Any) -> None:
        self._record("admin_disable_user", kwargs)
        self.users[kwargs["Username"]]["Enabled"] = False

    def admin_enable_user(self, **kwargs: Any) -> None:
        self._record("admin_enable_user", kwargs)
        self.users[kwargs["Username"]]["Enabled"] = True


@pytest.fixture
def cognito() -> FakeCognito:
    return FakeCognito()


@pytest.fixture
def provider(cognito: FakeCognito) -> CognitoIdentityProvider:
    return CognitoIdentityProvider(cognito.pool, api=cognito)


def test_it_is_an_identity_provider(provider: CognitoIdentityProvider) -> None:
    assert isinstance(provider, CognitoIdentityProvider)
    typed: IdentityProvider = provider  # mypy checks the protocol
    assert typed is provider


def test_invite_creates_a_verified_user_and_has_cognito_email_the_invitation(
    provider: CognitoIdentityProvider, cognito: FakeCognito
) -> None:
    subject = provider.invite("ada@example.com")
    assert subject == "sub-1"
    operation, call = cognito.calls[-1]
    assert operation == "admin_create_user"
    assert call == {
        "Username": "ada@example.com",
        "UserAttributes": [
            {"Name": "email", "Value": "ada@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
        "DesiredDeliveryMediums": ["EMAIL"],
    }
    assert "MessageAction" not in call  # Cognito sends its invitation message


@pytest.mark.parametrize("status", ["CONFIRMED", "FORCE_CHANGE_PASSWORD"])
def test_an_existing_user_is_never_created_again(
    provider: CognitoIdentityProvider, cognito: FakeCognito, status: str
) -> None:
    sub = cognito.add("5f0c-uuid", "ada@example.com", status=status)  # an email-alias pool
    assert provider.invite("ada@example.com") == sub
    assert [operation for operation, _ in cognito.calls] == ["list_users"]
    assert cognito.calls[0][1]["Filter"] == 'email = "ada@example.com"'


def test_a_user_created_by_a_racing_request_is_found(
    provider: CognitoIdentityProvider, cognito: FakeCognito
) -> None:
    sub = cognito.add("ada@example.com", "ada@example.com")
    cognito.hide_from_list = True  # our first look misses it

    def unhide(**kwargs: Any) -> dict[str, Any]:
        cognito.hide_from_list = False
        return FakeCognito.admin_create_user(cognito, **kwargs)

    cognito.admin_create_user = unhide  # type: ignore[method-assign]
    assert provider.invite("ada@example.com") == sub


def test_throttling_is_unavailable_and_bad_emails_are_refused(
    provider: CognitoIdentityProvider, cognito: FakeCognito
) -> None:
    cognito.fail["list_users"] = client_error("TooManyRequestsException", "ListUsers")
    with pytest.raises(Unavailable):
        provider.invite("ada@example.com")
    cognito.fail["admin_create_user"] = client_error("InvalidParameterException", "AdminCreateUser")
    with pytest.raises(ValidationFailed) as refused:
        provider.invite("ada@example.com")
    assert refused.value.code == "INVALID_EMAIL"
    cognito.fail["admin_create_user"] = client_error("NotAuthorizedException", "AdminCreateUser")
    with pytest.raises(ClientError):  # a deployment error: a 500, logged
        provider.invite("ada@example.com")


@pytest.mark.parametrize("value", ['a"@example.com', "a\\@example.com", "a\n@example.com"])
def test_filter_values_cannot_break_out_of_their_quotes(
    provider: CognitoIdentityProvider, cognito: FakeCognito, value: str
) -> None:
    with pytest.raises(ValidationFailed):
        provider.find_by_email(value)
    with pytest.raises(ValidationFailed):
        provider.user(value)
    assert cognito.calls == []


def test_user_reads_the_account_by_subject(
    provider: CognitoIdentityProvider, cognito: FakeCognito
) -> None:
    sub = cognito.add("uuid-1", "ada@example.com", verified=False)
    assert provider.user(sub) == ProviderUser(
        subject=sub,
        email="ada@example.com",
        email_verified=False,
        enabled=True,
        status="CONFIRMED",
    )
    assert cognito.calls[-1][1]["Filter"] == f'sub = "{sub}"'
    assert provider.user("nobody") is None
    assert provider.find_by_email("nobody@example.com") is None


def test_disable_and_enable_address_the_user_by_username(
    provider: CognitoIdentityProvider, cognito: FakeCognito
) -> None:
    sub = cognito.add("uuid-1", "ada@example.com")
    provider.disable(sub)
    assert cognito.users["uuid-1"]["Enabled"] is False
    user = provider.user(sub)
    assert user is not None and not user.enabled
    provider.enable(sub)
    assert cognito.users["uuid-1"]["Enabled"] is True
    provider.disable("nobody")  # nothing to do
    assert [op for op, _ in cognito.calls].count("admin_disable_user") == 1


def test_the_provider_is_configured_by_the_pool_id(monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_identity_provider() is None
    monkeypatch.setenv("LICENSING_COGNITO_USER_POOL_ID", "us-east-1_abc")
    reset_settings()
    provider = get_identity_provider()
    assert isinstance(provider, CognitoIdentityProvider)
    assert provider.user_pool_id == "us-east-1_abc"
    assert get_identity_provider() is provider  # memoized per settings
    reset_settings()
    assert get_identity_provider() is not provider
