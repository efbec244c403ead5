"""The embedded AWS: a moto server on 127.0.0.1, its tables and its Cognito pool.

Nothing here touches real AWS: every client carries fake credentials and the
moto endpoint explicitly, and the process environment is pointed at moto before
any handler runs (:func:`configure_environment`).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk, jwt
from licensing_core.jose import b64url_decode
from licensing_core.settings import reset_settings
from moto.cognitoidp.models import CognitoIdpBackend, cognitoidp_backends
from moto.core.common_models import BaseModel
from moto.server import ThreadedMotoServer

from local import dynamodb, totp
from local.state import SIGNING_KEY_FILE, Account

if TYPE_CHECKING:
    from types_boto3_cognito_idp import CognitoIdentityProviderClient
    from types_boto3_dynamodb import DynamoDBClient

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
EVENT_BUS = "licensing-local"
ADMIN_GROUP = "license-admins"
TENANT_ADMIN_GROUP = "tenant-admins"
LOOPBACK = "127.0.0.1"
FAKE_CREDENTIALS: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}
#: Variables that could send a client anywhere but moto, or to real credentials.
_UNSAFE_PREFIXES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_")
#: No shared config or credentials files, no instance metadata: only the fake keys.
_HERMETIC: Mapping[str, str] = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2})


class _OneAtATime:
    """WSGI wrapper that lets moto serve one request at a time.

    moto's backends are not thread-safe: concurrent DynamoDB transactions fail with
    "dictionary changed size during iteration", and conditional writes could interleave.
    Serialized, every API call is atomic, as each DynamoDB request is in AWS. ``after``
    runs once each request is served, still under the lock (the local server saves what
    the request wrote); after :meth:`close`, requests are refused with a 503.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.after: Callable[[Mapping[str, Any]], None] | None = None
        self.closed = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            if self.closed:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"the embedded AWS is stopping"]
            try:
                result = self.app(environ, start_response)
                try:
                    return list(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            finally:
                if self.after is not None:
                    self.after(environ)

    def close(self) -> None:
        """Refuse every later request (waits for the one being served)."""
        with self.lock:
            self.closed = True


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


def forget_model_instances() -> None:
    """Stop moto from keeping every model object it creates.

    ``moto.core.common_models.BaseModel`` appends each new instance (every DynamoDB
    item version, every copy of one) to a class-level list that only its dashboard
    reads and that nothing empties: in a server that runs for days it is the whole
    write history, in memory. This process-wide patch makes new instances untracked.
    """
    BaseModel.__new__ = staticmethod(_untracked_new)  # type: ignore[method-assign]


class EmbeddedAws:
    """A moto server (every service, including DynamoDB, Cognito IdP and KMS) bound to
    127.0.0.1 on ``port`` (0: any free port), in a daemon thread of this process.
    Requests are served one at a time (see :class:`_OneAtATime`); transactions back up
    only the items they name (:func:`local.dynamodb.narrow_transactions`), queries look
    only at the items they can match (:func:`local.dynamodb.indexed_queries`) and model
    instances are not tracked (:func:`forget_model_instances`), so neither the time nor
    the memory of a write grows with the data."""

    def __init__(self, port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
        self._endpoint: str | None = None
        self._app: _OneAtATime | None = None
        self.dynamodb = dynamodb.backend(ACCOUNT_ID, REGION)
        self.cognito: CognitoIdpBackend = cognitoidp_backends[ACCOUNT_ID][REGION]

    @property
    def lock(self) -> threading.Lock:
        """Held while moto serves a request: take it to read moto's state directly."""
        if self._app is None:
            raise RuntimeError("the embedded AWS is not started")
        return self._app.lock

    @property
    def endpoint(self) -> str:
        if self._endpoint is None:
            raise RuntimeError("the embedded AWS is not started")
        return self._endpoint

    def start(self) -> str:
        # werkzeug logs every moto call at INFO; the gateway keeps its own access log.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        logging.getLogger("botocore.credentials").setLevel(logging.WARNING)
        forget_model_instances()
        dynamodb.narrow_transactions(self.dynamodb)
        dynamodb.indexed_queries(self.dynamodb)
        self._server.start()
        wsgi_server = self._server._server  # the werkzeug server; no request has come yet
        if wsgi_server is not None:
            self._app = wsgi_server.app = _OneAtATime(wsgi_server.app)
        host, port = self._server.get_host_and_port()
        self._endpoint = f"http://{host}:{port}"
        return self._endpoint

    def after_each_request(self, callback: Callable[[Mapping[str, Any]], None]) -> None:
        """Run ``callback(environ)`` after every request, inside the request lock."""
        if self._app is None:
            raise RuntimeError("the embedded AWS is not started")
        self._app.after = callback

    def stop(self) -> None:
        if self._endpoint is not None:
            if self._app is not None:
                self._app.close()
            self._server.stop()
            self._endpoint = None


def _session() -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=REGION,
    )


def create_event_bus(endpoint: str) -> None:
    """The bus the publisher puts lifecycle events on (moto keeps none: it has no rule)."""
    _session().client("events", endpoint_url=endpoint, config=_CLIENT_CONFIG).create_event_bus(
        Name=EVENT_BUS
    )


def cognito_client(endpoint: str, config: Config | None = None) -> CognitoIdentityProviderClient:
    return _session().client("cognito-idp", endpoint_url=endpoint, config=config or _CLIENT_CONFIG)


def dynamodb_client(endpoint: str) -> DynamoDBClient:
    return _session().client("dynamodb", endpoint_url=endpoint, config=_CLIENT_CONFIG)


# --- Environment -------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityProvider:
    """The local Cognito user pool, its app client and users (by role)."""

    user_pool_id: str
    client_id: str
    accounts: Mapping[str, Account]

    @property
    def issuer(self) -> str:
        """The ``iss`` moto writes into tokens (the real Cognito issuer format)."""
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.user_pool_id}"

    def jwks_url(self, endpoint: str) -> str:
        """Where moto serves the pool's JWKS (not under the issuer, as in AWS)."""
        return f"{endpoint}/{self.user_pool_id}/.well-known/jwks.json"


def isolate_from_real_aws() -> None:
    """Fake credentials, fixed region, no profile, config file, endpoint or metadata
    service of the real account: whatever this process calls, it cannot reach AWS."""
    for name in [name for name in os.environ if name.startswith(_UNSAFE_PREFIXES)]:
        del os.environ[name]
    os.environ.update(
        {**FAKE_CREDENTIALS, **_HERMETIC, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
    )


def configure_environment(
    *, endpoint: str, issuer: str, data_dir: Path, idp: IdentityProvider
) -> dict[str, str]:
    """Point this process at moto and the local issuer, then forget cached settings and
    connections. Returns the LICENSING_* variables set."""
    isolate_from_real_aws()
    variables = {
        "LICENSING_AWS_ENDPOINT_URL": endpoint,
        "LICENSING_ISSUER": issuer,
        "LICENSING_SIGNER": "pem",
        "LICENSING_SIGNING_KEY_PATH": str(data_dir / SIGNING_KEY_FILE),
        "LICENSING_OIDC_ISSUER": idp.issuer,
        "LICENSING_OIDC_JWKS_URL": idp.jwks_url(endpoint),
        "LICENSING_OIDC_AUDIENCES": idp.client_id,
        "LICENSING_ADMIN_GROUP": ADMIN_GROUP,
        # Self-service registration invites users into the local pool (moto sends no email).
        "LICENSING_COGNITO_USER_POOL_ID": idp.user_pool_id,
        # Links in discovery documents follow the issuer, never a client's Host header.
        "LICENSING_PUBLIC_URL": issuer,
        # The registration page sends people to claim in the console's portal.
        "LICENSING_PORTAL_URL": f"{issuer}/console/portal/claim",
        # The publisher puts lifecycle events on a bus of the embedded moto.
        "LICENSING_EVENT_BUS": EVENT_BUS,
    }
    os.environ.update(variables)
    reset_settings()
    return variables


# --- Cognito -----------------------------------------------------------------------

#: role -> (username, groups)
LOCAL_USERS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("admin@example.com", (ADMIN_GROUP,)),
    "user": ("user@example.com", ()),
    # Its tenant (attribute custom:tenant) is the demo tenant the seed creates.
    "tenant-admin": ("tenant-admin@example.com", (TENANT_ADMIN_GROUP,)),
}


def _password() -> str:
    """A random password that satisfies any Cognito password policy."""
    return f"{secrets.token_urlsafe(24)}aA1!"


#: moto derives the ids of pools and app clients from their settings (instead of
#: random ones): a restarted server has the same issuer and audience, so tokens
#: issued before the restart still verify.
HASHED_COGNITO_IDS = {
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}


def bootstrap_cognito(
    endpoint: str, restore: Callable[[str], object] | None = None
) -> IdentityProvider:
    """A user pool and a public app client with deterministic ids, the administrators'
    groups, and one user per role with a fresh random permanent password and MFA secret. ``restore(pool_id)`` runs
    before the users are made: a user it restored keeps its ``sub``."""
    os.environ.update(HASHED_COGNITO_IDS)  # read by the moto server of this process
    client = cognito_client(endpoint)
    pool_id = client.create_user_pool(
        PoolName="licensing-local",
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
        AutoVerifiedAttributes=["email"],
    )["UserPool"]["Id"]
    client_id = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="licensing-local",
        GenerateSecret=False,
        ExplicitAuthFlows=[
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
    )["UserPoolClient"]["ClientId"]
    for group, description in (
        (ADMIN_GROUP, "Licensing administrators"),
        (TENANT_ADMIN_GROUP, "Administrators of one tenant"),
    ):
        with contextlib.suppress(client.exceptions.GroupExistsException):
            client.create_group(UserPoolId=pool_id, GroupName=group, Description=description)
    if restore is not None:
        restore(pool_id)
    accounts = {}
    for role, (username, groups) in LOCAL_USERS.items():
        password = _password()
        # A user restored from the data directory only gets a new password.
        with contextlib.suppress(client.exceptions.UsernameExistsException):
            client.admin_create_user(
                UserPoolId=pool_id,
                Username=username,
                UserAttributes=[
                    {"Name": "email", "Value": username},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
        client.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=password, Permanent=True
        )
        for group in groups:
            client.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)
        accounts[role] = Account(username, password, groups, totp.new_secret())
    return IdentityProvider(pool_id, client_id, accounts)


def moto_signing_key() -> jwk.JWK:
    """The private key moto's Cognito signs every token with (it ships inside moto, which
    is why the local server must stay on loopback). Moto keeps only ``n``, ``e``, ``d``;
    the primes are recovered so standard libraries can sign with it."""
    private = json.loads(
        gzip.decompress(
            resources.files("moto.cognitoidp")
            .joinpath("resources/jwks-private.json.gz")
            .read_bytes()
        )
    )
    n, e, d = (int.from_bytes(b64url_decode(private[name])) for name in ("n", "e", "d"))
    p, q = rsa.rsa_recover_prime_factors(n, e, d)
    numbers = rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, n),
    )
    key = jwk.JWK.from_pyca(numbers.private_key())
    key.update(kid=private["kid"])
    return key


def with_mfa(token: str, **claims: Any) -> str:
    """The same pool token as if its user had just signed in again with MFA: ``acr``
    ``mfa``, ``amr`` ``[pwd, mfa]`` and a fresh ``auth_time`` (moto's Cognito cannot
    add them itself). Extra ``claims`` override, e.g. an old ``auth_time``."""
    now = int(time.time())
    return resigned(
        token, **{"acr": "mfa", "amr": ["pwd", "mfa"], "auth_time": now, "iat": now, **claims}
    )


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a compact JWS, unverified (our own pool's fresh token)."""
    payload: dict[str, Any] = json.loads(b64url_decode(token.split(".")[1]))
    return payload


def resigned(token: str, **claims: Any) -> str:
    """The same pool token with ``claims`` added or replaced."""
    return _signed_by_pool({**claims_of(token), **claims})


def service_token(issuer: str, client_id: str, scope: str, **claims: Any) -> str:
    """A client-credentials access token of the pool's app client ``client_id``, shaped
    as Cognito issues them (moto's Cognito has no OAuth token endpoint): the client is
    its own subject, ``scope`` names what it may do. ``claims`` add or override."""
    now = int(time.time())
    payload = {
        "sub": client_id,
        "client_id": client_id,
        "token_use": "access",
        "scope": scope,
        "auth_time": now,
        "iss": issuer,
        "exp": now + 3600,
        "iat": now,
        "version": 2,
        "jti": secrets.token_hex(16),
        **claims,
    }
    return _signed_by_pool(payload)


def _signed_by_pool(payload: dict[str, Any]) -> str:
    signed = jwt.JWT(header={"alg": "RS256", "kid": "dummy"}, claims=payload)
    signed.make_signed_token(moto_signing_key())
    return str(signed.serialize())


def access_token(
    endpoint: str, user_pool_id: str, client_id: str, account: Account, *, fail_fast: bool = False
) -> str:
    """A fresh Cognito access token for ``account`` (AdminInitiateAuth)."""
    config = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1})
    client = cognito_client(endpoint, config if fail_fast else None)
    result = client.admin_initiate_auth(
        UserPoolId=user_pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": account.username, "PASSWORD": account.password},
    )
    return result["AuthenticationResult"]["AccessToken"]
