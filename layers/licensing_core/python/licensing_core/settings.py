"""Runtime configuration, read from the environment once and validated.

Every variable is prefixed ``LICENSING_``. Nothing reads the environment at import
time: call :func:`get_settings` where a value is needed. The settings are a dataclass
parsed here, not a pydantic model: every function builds them at its first request, and
that should not cost a cold start pydantic's import and a model's schema.
"""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache, partial
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from licensing_core.plain import WHITESPACE

PREFIX = "LICENSING_"
#: The field that the ``LICENSING_TABLE_<NAME>`` variables fill (no variable of its own).
_TABLES = "table_names"


class ConfigurationError(RuntimeError):
    """The deployment is misconfigured: a bug for operators, not for callers."""


@dataclass(frozen=True)
class Settings:
    """Every setting and its default. The bounds of an ``int`` are its field's metadata
    (``ge``, ``le``, ``gt``), checked by :meth:`from_env` as :data:`_BOUNDS` says."""

    region: str = "us-east-1"
    #: Endpoint of an AWS-compatible service (the local moto server); None in AWS.
    aws_endpoint_url: str | None = None
    #: Prefix of table names not set one by one (``LICENSING_TABLE_<NAME>``).
    table_prefix: str = "licensing-"
    table_names: Mapping[str, str] = field(default_factory=dict)

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
    jwks_cache_seconds: int = field(default=3600, metadata={"ge": 0})
    jwks_refetch_cooldown_seconds: int = field(default=60, metadata={"ge": 0})

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
    claim_expiry_seconds: int = field(default=7 * 86_400, metadata={"ge": 60, "le": 90 * 86_400})
    #: How long a claim record is kept after it expired, before DynamoDB's TTL deletes it
    #: (never relied on: expiry is decided by ``expiresAt`` and the scheduled job).
    claim_retention_seconds: int = field(default=90 * 86_400, metadata={"ge": 0})
    #: Length of licenses claimed for a priced self-service tier; free tiers are perpetual.
    self_service_license_days: int = field(default=30, metadata={"ge": 1, "le": 36_500})
    #: Registration rate limits: at most this many ``POST /register`` per email address
    #: and per client IP in each fixed window.
    register_window_seconds: int = field(default=3600, metadata={"ge": 1, "le": 86_400})
    register_limit_per_email: int = field(default=3, metadata={"ge": 1})
    register_limit_per_ip: int = field(default=20, metadata={"ge": 1})

    #: How long a container serves a product's catalog (features, tiers) to the token hot
    #: paths (activate, heartbeat) without reading it again: a tier change (features,
    #: limits, maxUsers, heartbeat policy) reaches activations and machine tokens within
    #: this many seconds. 0: every request revalidates it (one read).
    catalog_cache_seconds: int = field(default=60, metadata={"ge": 0, "le": 3600})

    max_body_bytes: int = field(default=64 * 1024, metadata={"gt": 0})
    max_token_bytes: int = field(default=16 * 1024, metadata={"gt": 0})
    leeway_seconds: int = field(default=30, metadata={"ge": 0, "le": 300})

    def table_name(self, logical: str) -> str:
        """Physical name of the table a model calls ``logical``."""
        return self.table_names.get(logical, f"{self.table_prefix}{logical}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """The settings ``environ``'s ``LICENSING_*`` variables make (the region defaults
        to AWS's own); ConfigurationError names every variable that is unknown or invalid."""
        texts: dict[str, tuple[str, str]] = {}  # field -> (variable, text); the last one wins
        tables: dict[str, str] = {}
        for key, text in environ.items():
            if not key.startswith(PREFIX):
                continue
            name = key[len(PREFIX) :].lower()
            if name.startswith("table_") and name != "table_prefix":
                tables[name[len("table_") :]] = text
            else:
                texts[name] = (key, text)
        parsers = _parsers()
        values: dict[str, Any] = {}
        problems: list[str] = []
        for name, (key, text) in texts.items():
            if name not in parsers:
                problems.append(f"{key}: unknown variable")
                continue
            try:
                values[name] = parsers[name](text)
            except ValueError as error:
                problems.append(f"{key}: {error}")
        if problems:
            raise ConfigurationError("\n  ".join(["invalid LICENSING_* configuration:", *problems]))
        region = environ.get("AWS_REGION", environ.get("AWS_DEFAULT_REGION"))
        if region is not None:
            values.setdefault("region", region)
        return cls(**values, table_names=tables)


#: An ``int`` as pydantic's lax mode read one from text: ASCII digits after an optional
#: sign, single underscores between digits, and an optional fraction of zeros ("60.0").
_INTEGER = re.compile(r"([+-]?[0-9]+(?:_[0-9]+)*)(?:\.0+)?")
#: Bound (a key of an ``int`` field's metadata) -> whether a value keeps it, and its name.
_BOUNDS: dict[str, tuple[Callable[[int, int], bool], str]] = {
    "gt": (operator.gt, "greater than"),
    "ge": (operator.ge, "at least"),
    "le": (operator.le, "at most"),
}


def _integer(text: str, bounds: Mapping[str, int]) -> int:
    """``text`` as an int within ``bounds``. Unlike pydantic-core, which read "0__7" as 7
    and "0-5" as -5 (leading zeros and underscores skipped), such text is refused."""
    match = _INTEGER.fullmatch(text.strip(WHITESPACE))  # as pydantic-core's lax mode
    if match is None:
        raise ValueError(f"must be an integer, not {text!r}")
    value = int(match[1])
    for bound, limit in bounds.items():
        keeps, name = _BOUNDS[bound]
        if not keeps(value, limit):
            raise ValueError(f"must be {name} {limit}, not {value}")
    return value


def _csv(text: str) -> tuple[str, ...]:
    """Comma-separated items, each stripped; blank ones dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _one_of(choices: tuple[str, ...], text: str) -> str:
    if text not in choices:
        raise ValueError(f"must be one of {', '.join(choices)}, not {text!r}")
    return text


def _parser(hint: object, metadata: Mapping[str, int]) -> Callable[[str], object]:
    """How a variable's text becomes a value of the type ``hint``."""
    if hint is int:
        if unknown := set(metadata) - set(_BOUNDS):
            raise TypeError(f"unknown bounds {sorted(unknown)}")
        return partial(_integer, bounds=metadata)
    if hint == tuple[str, ...]:
        return _csv
    if get_origin(hint) is Literal:
        return partial(_one_of, get_args(hint))
    if hint in (str, str | None):
        return str
    raise TypeError(f"no parser of a variable into {hint}")


@lru_cache(maxsize=1)
def _parsers() -> dict[str, Callable[[str], object]]:
    """Field name -> its variable's parser, by the field's type."""
    hints = get_type_hints(Settings)
    return {
        each.name: _parser(hints[each.name], each.metadata)
        for each in fields(Settings)
        if each.name != _TABLES
    }


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
