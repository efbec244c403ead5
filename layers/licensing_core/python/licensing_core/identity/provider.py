"""The identity-provider adapter: the few account operations the service needs from
the provider that issues end users' bearer tokens.

Self-service registration invites a user (the provider creates the account and
emails the invitation), claiming a license reads the caller's verified email, and
identity lifecycle can disable and re-enable an account. Amazon Cognito is built in
(:class:`CognitoIdentityProvider`, selected by ``LICENSING_COGNITO_USER_POOL_ID``).

Adding another provider (any OIDC issuer with a user-management API, or SCIM 2.0):

1. Write a class with the methods of :class:`IdentityProvider`. ``subject`` is always
   the ``sub`` the provider puts in its tokens. With SCIM (RFC 7644):
   ``invite`` is ``POST /Users`` with ``userName`` and ``emails: [{value, primary}]``
   (then the provider's own invitation or password-reset email: SCIM does not define
   one; many providers send it on ``active: true`` users created without a password),
   ``find_by_email`` is ``GET /Users?filter=emails.value eq "<email>"``, ``user`` is
   ``GET /Users/<id>`` (map ``sub`` to the SCIM ``id`` or ``externalId`` as the
   provider does), ``disable``/``enable`` are ``PATCH /Users/<id>`` setting ``active``.
   Translate "not found" into ``None`` and throttling into
   :class:`~licensing_core.domain.errors.Unavailable`.
2. Add its settings (base URL, client credentials: read secrets from AWS Secrets
   Manager at first use, never at import) to :class:`~licensing_core.settings.Settings`.
3. Return it from :func:`get_identity_provider` when those settings are present; point
   ``LICENSING_OIDC_ISSUER``/``LICENSING_OIDC_JWKS_URL``/``LICENSING_OIDC_AUDIENCES``
   at the same provider so its tokens authenticate end users.
4. Grant the functions whose route has ``identity_provider`` set network access and
   the secret; test it the way ``tests/unit/test_registration_provider.py`` tests
   the Cognito adapter (a fake of the provider's API).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from licensing_core.aws import client
from licensing_core.domain.errors import Unavailable, ValidationFailed
from licensing_core.settings import get_settings, per_settings


@dataclass(frozen=True)
class ProviderUser:
    """An account as the identity provider knows it."""

    subject: str
    email: str | None
    email_verified: bool
    enabled: bool
    #: The provider's own account state (Cognito: ``CONFIRMED``, ``FORCE_CHANGE_PASSWORD``...).
    status: str = ""


class IdentityProvider(Protocol):
    """What the service asks of an identity provider; every email it is given is already
    normalized (:func:`~licensing_core.domain.emails.email_key`), every subject is the
    provider's ``sub``."""

    def invite(self, email: str) -> str:
        """Create an account for ``email`` (marked verified: the invitation proves it)
        and have the provider email the invitation; an existing account is never
        created again, and its subject is returned."""
        ...

    def find_by_email(self, email: str) -> str | None:
        """The subject of the account with this email, if there is one."""
        ...

    def user(self, subject: str) -> ProviderUser | None:
        """The account with this subject, if there is one."""
        ...

    def disable(self, subject: str) -> None:
        """Stop the account from signing in (existing tokens live until they expire)."""
        ...

    def enable(self, subject: str) -> None: ...


#: Cognito error codes a caller may retry.
_RETRYABLE = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "InternalErrorException"}
)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _quoted(value: str) -> str:
    """A value for a ``ListUsers`` filter; quotes and backslashes never reach it."""
    if '"' in value or "\\" in value or not value.isprintable():
        raise ValidationFailed("not a value the identity provider can search for")
    return f'"{value}"'


def _attributes(items: Sequence[Mapping[str, str]]) -> dict[str, str]:
    return {item["Name"]: item.get("Value", "") for item in items}


class CognitoIdentityProvider:
    """An Amazon Cognito user pool, through the ``Admin*`` and ``ListUsers`` APIs.

    Works with pools whose username is the email and with pools that sign in by email
    alias (``UsernameAttributes: [email]``, where Cognito makes the username a UUID):
    users are always looked up by attribute, never by guessing the username.
    IAM: ``cognito-idp:AdminCreateUser``, ``ListUsers``, ``AdminDisableUser``,
    ``AdminEnableUser`` on the pool.
    """

    def __init__(self, user_pool_id: str, api: Any = None) -> None:
        self.user_pool_id = user_pool_id
        self._api = api

    @property
    def api(self) -> Any:
        """The injected client, else the shared boto3 client (created at first use)."""
        return self._api if self._api is not None else client("cognito-idp")

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.api, operation)(UserPoolId=self.user_pool_id, **kwargs)
        except ClientError as error:
            if _error_code(error) in _RETRYABLE:
                raise Unavailable(
                    "the identity provider is busy; retry shortly", retryAfterSeconds=1
                ) from error
            raise

    def _find(self, name: str, value: str) -> tuple[str, ProviderUser] | None:
        """``(username, user)`` of the account whose attribute ``name`` is ``value``."""
        response = self._call("list_users", Filter=f"{name} = {_quoted(value)}", Limit=2)
        users = response.get("Users") or []
        if not users:
            return None
        found = users[0]
        attributes = _attributes(found.get("Attributes") or [])
        return str(found["Username"]), ProviderUser(
            subject=attributes.get("sub", ""),
            email=attributes.get("email") or None,
            email_verified=attributes.get("email_verified", "").lower() == "true",
            enabled=bool(found.get("Enabled", True)),
            status=str(found.get("UserStatus", "")),
        )

    def invite(self, email: str) -> str:
        # An existing account is left exactly as it is (no second invitation either: the
        # pool's temporary-password validity should cover the claim's expiry).
        existing = self.find_by_email(email)
        if existing is not None:
            return existing
        try:
            created = self._call(
                "admin_create_user",
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                DesiredDeliveryMediums=["EMAIL"],
            )
        except ClientError as error:
            code = _error_code(error)
            if code in ("UsernameExistsException", "AliasExistsException"):
                subject = self.find_by_email(email)  # created meanwhile by a racing request
                if subject is not None:
                    return subject
            if code == "InvalidParameterException":
                raise ValidationFailed(
                    "the identity provider refused this email address", code="INVALID_EMAIL"
                ) from error
            raise
        return _attributes(created["User"].get("Attributes") or [])["sub"]

    def find_by_email(self, email: str) -> str | None:
        found = self._find("email", email)
        return found[1].subject if found else None

    def user(self, subject: str) -> ProviderUser | None:
        found = self._find("sub", subject)
        return found[1] if found else None

    def _username(self, subject: str) -> str | None:
        found = self._find("sub", subject)
        return found[0] if found else None

    def disable(self, subject: str) -> None:
        username = self._username(subject)
        if username is not None:
            self._call("admin_disable_user", Username=username)

    def enable(self, subject: str) -> None:
        username = self._username(subject)
        if username is not None:
            self._call("admin_enable_user", Username=username)


@per_settings
def get_identity_provider() -> IdentityProvider | None:
    """The configured identity provider; None when none is (no self-service then)."""
    pool = get_settings().cognito_user_pool_id
    return CognitoIdentityProvider(pool) if pool else None
