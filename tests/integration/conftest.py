"""Handlers against moto's in-process AWS: DynamoDB tables, a Cognito pool, KMS."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from licensing_core.identity import jwks
from licensing_core.settings import reset_settings
from licensing_core.store.base import create_missing_tables
from licensing_core.store.models import ALL_MODELS
from moto import mock_aws

from local.aws import with_mfa
from local.streams import StreamCursor, trim
from tests.support import Response, invoke
from tests.table_grants import pytest_sessionfinish, pytest_terminal_summary  # noqa: F401 (hooks)

PASSWORD = "Correct-horse-battery-9"


@dataclass
class CognitoPool:
    client: Any
    pool_id: str
    client_id: str
    tokens: dict[str, dict[str, str]]

    def user_token(self, username: str, *groups: str) -> str:
        """An access token of a (new or existing) user in ``groups``."""
        return self._tokens(username, groups)["AccessToken"]

    def id_token(self, username: str, *groups: str, tenant: str | None = None) -> str:
        """An ID token (it carries custom attributes: ``custom:tenant``) of a (new or
        existing) user in ``groups``."""
        return self._tokens(username, groups, tenant)["IdToken"]

    def _tokens(
        self, username: str, groups: tuple[str, ...], tenant: str | None = None
    ) -> dict[str, str]:
        if username not in self.tokens:
            attributes = [{"Name": "custom:tenant", "Value": tenant}] if tenant else []
            # The pool lives as long as the package: an earlier test's registration may
            # have invited this address already; then that account is the one signed in.
            with contextlib.suppress(self.client.exceptions.UsernameExistsException):
                self.client.admin_create_user(
                    UserPoolId=self.pool_id,
                    Username=username,
                    MessageAction="SUPPRESS",
                    UserAttributes=attributes,
                )
            self.client.admin_set_user_password(
                UserPoolId=self.pool_id, Username=username, Password=PASSWORD, Permanent=True
            )
            for group in groups:
                self.client.admin_add_user_to_group(
                    UserPoolId=self.pool_id, Username=username, GroupName=group
                )
            result = self.client.admin_initiate_auth(
                UserPoolId=self.pool_id,
                ClientId=self.client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
            )
            self.tokens[username] = dict(result["AuthenticationResult"])
        return self.tokens[username]


def _fetch_through_moto(url: str) -> dict[str, Any]:
    """moto intercepts ``requests``, so the JWKS comes from the mocked Cognito pool."""
    response = requests.get(url, timeout=5)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture(scope="package")
def moto_aws() -> Iterator[CognitoPool]:
    """One in-process AWS for the package: a Cognito pool, and tables created once."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool_id = cognito.create_user_pool(
            PoolName="licensing",
            Schema=[{"Name": "tenant", "AttributeDataType": "String", "Mutable": True}],
        )["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="admin-cli",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        for group in ("license-admins", "tenant-admins"):
            cognito.create_group(UserPoolId=pool_id, GroupName=group)
        yield CognitoPool(cognito, pool_id, client_id, {})


def _empty_tables() -> None:
    for model in ALL_MODELS:
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)
        if getattr(model.Meta, "stream_view_type", None):  # moto keeps (and copies) them all
            trim([StreamCursor.at_end(model.Meta.table_name, "123456789012", "us-east-1")])


@pytest.fixture
def aws(moto_aws: CognitoPool, monkeypatch: pytest.MonkeyPatch) -> CognitoPool:
    """Settings pointing at the package's AWS, and empty tables."""
    monkeypatch.setenv(
        "LICENSING_OIDC_ISSUER", f"https://cognito-idp.us-east-1.amazonaws.com/{moto_aws.pool_id}"
    )
    monkeypatch.setenv("LICENSING_OIDC_AUDIENCES", moto_aws.client_id)
    monkeypatch.setattr(jwks, "fetch_json", _fetch_through_moto)
    reset_settings()
    create_missing_tables(ALL_MODELS)
    _empty_tables()
    return moto_aws


@pytest.fixture
def admin_token(weak_admin_token: str) -> str:
    """An admin who just signed in with MFA: passes every step-up."""
    return with_mfa(weak_admin_token)


@pytest.fixture
def weak_admin_token(aws: CognitoPool) -> str:
    """An admin token as Cognito issues it: no ``acr``/``amr``, so step-up actions challenge."""
    return aws.user_token("admin@example.com", "license-admins")


@pytest.fixture
def user_token(aws: CognitoPool) -> str:
    return aws.user_token("user@example.com")


FEATURES = [
    ("sso", False),
    ("passkeys", False),
    ("multi_tenant", False),
    ("audit_log", False),
    ("priority_support", True),
]


def tier_body(code: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "code": code,
        "name": code.title(),
        "monthlyPrice": 0,
        "annualPrice": 0,
        "currency": "EUR",
        "billingPeriods": ["monthly", "annual"],
        "maxUsers": 1,
        "features": [],
    }
    body.update(overrides)
    return body


@pytest.fixture
def admin(admin_token: str) -> Callable[..., Response]:
    def call(method: str, path: str, body: Any = None, **kwargs: Any) -> Response:
        return invoke(method, path, body=body, token=admin_token, **kwargs)

    return call


@pytest.fixture
def product(admin: Callable[..., Response]) -> str:
    product_id: str = admin("POST", "/products", {"code": "Rdn.Identity", "name": "Rdn"}).json[
        "productId"
    ]
    for key, display_only in FEATURES:
        created = admin(
            "POST",
            f"/products/{product_id}/features",
            {"key": key, "name": key.title(), "displayOnly": display_only},
        )
        assert created.status == 201, created.text
    return product_id


@pytest.fixture
def tiers(admin: Callable[..., Response], product: str) -> dict[str, str]:
    free = admin("POST", f"/products/{product}/tiers", tier_body("free", features=["sso"]))
    assert free.status == 201, free.text
    pro = admin(
        "POST",
        f"/products/{product}/tiers",
        tier_body(
            "pro",
            includesTierId=free.json["tierId"],
            monthlyPrice=2900,
            annualPrice=29000,
            maxUsers=5,
            features=["passkeys", "multi_tenant"],
            quotas={"api_calls": {"limit": 100000, "period": "month"}},
        ),
    )
    ent = admin(
        "POST",
        f"/products/{product}/tiers",
        tier_body(
            "enterprise",
            includesTierId=pro.json["tierId"],
            monthlyPrice=9900,
            annualPrice=99000,
            maxUsers=50,
            features=["audit_log", "priority_support"],
            stepUp={"audit_log": {"acr": "mfa", "maxAge": 300}},
        ),
    )
    assert ent.status == 201, ent.text
    return {
        "free": free.json["tierId"],
        "pro": pro.json["tierId"],
        "enterprise": ent.json["tierId"],
    }


def perpetual_key(
    admin: Callable[..., Response],
    product: str,
    tier: str,
    customer_id: str,
    token: str | None = None,
) -> dict[str, Any]:
    """Issue a perpetual license key (as ``admin``, or as the bearer of ``token``)."""
    body = {"productId": product, "tierId": tier, "customerId": customer_id, "perpetual": True}
    issued = (
        admin("POST", "/license-keys", body)
        if token is None
        else invoke("POST", "/license-keys", body=body, token=token)
    )
    assert issued.status == 201, issued.text
    key: dict[str, Any] = issued.json
    return key
