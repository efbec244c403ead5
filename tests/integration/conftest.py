"""Handlers against moto's in-process AWS: DynamoDB tables, a Cognito pool, KMS."""

from __future__ import annotations

from collections.abc import Iterator
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

PASSWORD = "Correct-horse-battery-9"


@dataclass
class CognitoPool:
    client: Any
    pool_id: str
    client_id: str
    tokens: dict[str, str]

    def user_token(self, username: str, *groups: str) -> str:
        """An access token of a (new or existing) user in ``groups``."""
        if username not in self.tokens:
            self.client.admin_create_user(
                UserPoolId=self.pool_id, Username=username, MessageAction="SUPPRESS"
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
            self.tokens[username] = str(result["AuthenticationResult"]["AccessToken"])
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
        pool_id = cognito.create_user_pool(PoolName="licensing")["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="admin-cli",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        cognito.create_group(UserPoolId=pool_id, GroupName="license-admins")
        yield CognitoPool(cognito, pool_id, client_id, {})


def _empty_tables() -> None:
    for model in ALL_MODELS:
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)


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
def admin_token(aws: CognitoPool) -> str:
    return aws.user_token("admin@example.com", "license-admins")


@pytest.fixture
def user_token(aws: CognitoPool) -> str:
    return aws.user_token("user@example.com")
