"""Runtime configuration, read from the environment once and validated.

Every variable is prefixed ``LICENSING_``. Nothing reads the environment at import
time: call :func:`get_settings` where a value is needed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PREFIX = "LICENSING_"


class ConfigurationError(RuntimeError):
    """The deployment is misconfigured: a bug for operators, not for callers."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = "us-east-1"
    #: Endpoint of an AWS-compatible service (the local moto server); None in AWS.
    aws_endpoint_url: str | None = None
    #: Prefix of table names not set one by one (``LICENSING_TABLE_<NAME>``).
    table_prefix: str = "licensing-"
    table_names: Mapping[str, str] = Field(default_factory=dict)

    #: ``iss`` of every token this service signs.
    issuer: str = "http://127.0.0.1:8000"

    #: OIDC issuer expected in admin and end-user bearer tokens (``iss``).
    oidc_issuer: str | None = None
    #: Where that issuer's JWKS is fetched (differs from ``{issuer}/.well-known`` under moto).
    oidc_jwks_url: str | None = None
    #: Accepted ``aud`` (ID tokens) or ``client_id`` (access tokens).
    oidc_audiences: tuple[str, ...] = ()
    #: Platform administrators: manage every tenant and the catalog.
    admin_group: str = "license-admins"
    #: Tenant administrators: manage the identities, licenses and usage of the one tenant
    #: named by their token's tenant claim.
    tenant_admin_group: str = "tenant-admins"
    #: Claims that name a caller's tenant, first found wins (Cognito prefixes custom
    #: attributes with ``custom:``).
    tenant_claims: tuple[str, ...] = ("tenant", "custom:tenant")
    #: OAuth scopes of service accounts (client-credentials tokens carry no groups):
    #: administrator (of a tenant when the token names one), and read-only administrator.
    admin_scope: str = "licensing/admin"
    read_scope: str = "licensing/read"
    jwks_cache_seconds: int = Field(default=3600, ge=0)
    jwks_refetch_cooldown_seconds: int = Field(default=60, ge=0)

    signer: Literal["pem", "kms", "azure"] = "pem"
    #: PEM private key file for the ``pem`` signer (created 0600 if missing).
    signing_key_path: str = ".local/signing-key.pem"
    #: KMS key id or ARN (RSA_2048, SIGN_VERIFY) for the ``kms`` signer.
    kms_key_id: str | None = None
    #: Key Vault key identifier (``https://<vault>.vault.azure.net/keys/<name>/<version>``).
    azure_key_id: str | None = None
    #: Retired keys still published for verification, in the signer's terms (PEM paths,
    #: KMS key ids, Key Vault key ids), comma-separated. See "Key rotation" in the README.
    previous_signing_keys: tuple[str, ...] = ()
    #: Public base URL of the API for discovery documents; None derives it from the request.
    public_url: str | None = None
    #: Where people sign in and claim their license (the console's portal); None: the
    #: console beside the API (``console/`` relative to the registration page).
    portal_url: str | None = None
    #: Where the registration page sends people for tiers that are not self-service
    #: ("contact sales"); None: no link.
    sales_url: str | None = None

    #: EventBridge bus of the lifecycle events (licensing_core.events); None: events off.
    event_bus: str | None = None
    #: ARN of the Secrets Manager secret holding AZURE_TENANT_ID/AZURE_CLIENT_ID/
    #: AZURE_CLIENT_SECRET for the azure signer (the stack passes the ARN, never the values).
    azure_credentials_secret_arn: str | None = None

    #: Step-up policy override: a JSON document, or a path to one (default: packaged).
    step_up_policy: str | None = None

    #: Amazon Cognito user pool that self-service registration invites users into (and
    #: that end users' emails are read from); None disables self-service registration.
    cognito_user_pool_id: str | None = None
    #: How long a pending license claim (``POST /register``) can be claimed.
    claim_expiry_seconds: int = Field(default=7 * 86_400, ge=60, le=90 * 86_400)
    #: How long a claim record is kept after it expired, before DynamoDB's TTL deletes it
    #: (never relied on: expiry is decided by ``expiresAt`` and the scheduled job).
    claim_retention_seconds: int = Field(default=90 * 86_400, ge=0)
    #: Length of licenses claimed for a priced self-service tier; free tiers are perpetual.
    self_service_license_days: int = Field(default=30, ge=1, le=36_500)
    #: Registration rate limits: at most this many ``POST /register`` per email address
    #: and per client IP in each fixed window.
    register_window_seconds: int = Field(default=3600, ge=1, le=86_400)
    register_limit_per_email: int = Field(default=3, ge=1)
    register_limit_per_ip: int = Field(default=20, ge=1)

    #: How long a container serves a product's catalog (features, tiers) to the token hot
    #: paths (activate, heartbeat) without reading it again: a tier change (features,
    #: limits, maxUsers, heartbeat policy) reaches activations and machine tokens within
    #: this many seconds. 0: every request revalidates it (one read).
    catalog_cache_seconds: int = Field(default=60, ge=0, le=3600)

    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    max_token_bytes: int = Field(default=16 * 1024, gt=0)
    leeway_seconds: int = Field(default=30, ge=0, le=300)

    @field_validator("oidc_audiences", "previous_signing_keys", "tenant_claims", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    def table_name(self, logical: str) -> str:
        """Physical name of the table a model calls ``logical``."""
        return self.table_names.get(logical, f"{self.table_prefix}{logical}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        values: dict[str, object] = {}
        tables: dict[str, str] = {}
        for key, value in environ.items():
            if not key.startswith(PREFIX):
                continue
            name = key[len(PREFIX) :].lower()
            if name.startswith("table_") and name != "table_prefix":
                tables[name[len("table_") :]] = value
            else:
                values[name] = value
        values.setdefault("region", environ.get("AWS_REGION", environ.get("AWS_DEFAULT_REGION")))
        if values["region"] is None:
            del values["region"]
        try:
            return cls.model_validate({**values, "table_names": tables})
        except ValidationError as error:
            raise ConfigurationError(f"invalid LICENSING_* configuration: {error}") from error


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env(os.environ)


T = TypeVar("T")
_resets: list[Callable[[], None]] = [get_settings.cache_clear]


def per_settings(build: Callable[[], T]) -> Callable[[], T]:
    """Memoize a zero-argument factory of something built from the settings (a signer,
    a verifier); :func:`reset_settings` forgets it along with the settings."""
    cached = lru_cache(maxsize=1)(build)
    _resets.append(cached.cache_clear)
    return cached


def on_reset(forget: Callable[[], None]) -> None:
    """Register a callback that drops state derived from the settings."""
    _resets.append(forget)


def reset_settings() -> None:
    """Forget the settings and everything built from them (tests and the local server
    change the environment)."""
    for forget in _resets:
        forget()
