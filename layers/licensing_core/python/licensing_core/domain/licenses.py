"""License rules: what a license key says, when it is valid, and how it drifts.

Pure functions over plain values: the store reads records, these decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from licensing_core.domain.policies import HeartbeatPolicy, Quota, StepUpRule, serialized_map

#: A perpetual license is a 100-year one (tokens always carry ``exp``).
PERPETUAL_SECONDS = 3_155_760_000
LICENSE_TOKEN_TYPE = "license+jwt"  # noqa: S105 - a media type, not a secret
ACTIVATION_TOKEN_TYPE = "activation+jwt"  # noqa: S105

#: Validation codes, stable and documented (README "Validation codes").
VALID = "VALID"
REVOKED = "REVOKED"
SUSPENDED = "SUSPENDED"
SUPERSEDED = "SUPERSEDED"
EXPIRED = "EXPIRED"
NOT_FOUND = "NOT_FOUND"
IDENTITY_DEACTIVATED = "IDENTITY_DEACTIVATED"
WRONG_AUDIENCE = "WRONG_AUDIENCE"
REGION_NOT_ALLOWED = "REGION_NOT_ALLOWED"

#: Identity metadata that narrows what its licenses grant: ``region`` (the one region
#: they may be used in) and ``feature.<key>: false`` (a feature the tier has, withheld).
REGION_KEY = "region"
FEATURE_FLAG_PREFIX = "feature."

#: Claims an audit compares: everything the database decides.
AUDITED_CLAIMS = (
    "aud",
    "product",
    "tier",
    "customer",
    "tenant",
    "features",
    "limits",
    "heartbeat",
    "stepUp",
    "exp",
    "region",
)


@dataclass(frozen=True)
class Restrictions:
    """How an identity's metadata narrows its licenses (kept on the license at issue)."""

    region: str | None = None
    withheld_features: tuple[str, ...] = ()

    @classmethod
    def of(cls, metadata: Mapping[str, Any]) -> Restrictions:
        region = metadata.get(REGION_KEY)
        return cls(
            region=region if isinstance(region, str) else None,
            withheld_features=tuple(
                sorted(
                    key[len(FEATURE_FLAG_PREFIX) :]
                    for key, value in metadata.items()
                    if key.startswith(FEATURE_FLAG_PREFIX) and value is False
                )
            ),
        )

    def stored(self) -> dict[str, Any]:
        return {"region": self.region, "withheldFeatures": list(self.withheld_features)}

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> Restrictions:
        stored = stored or {}
        return cls(stored.get("region"), tuple(stored.get("withheldFeatures") or ()))

    def narrow(self, features: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(key for key in features if key not in self.withheld_features)


def region_allows(token_region: Any, used_in: str | None) -> bool:
    """Whether a license limited to ``token_region`` may be used in ``used_in`` (a
    license without a region, or a use that does not say where, is not limited)."""
    return token_region is None or used_in is None or token_region == used_in


@dataclass(frozen=True)
class Grant:
    """What the database says a license grants right now."""

    license_id: str
    product_id: str
    product_code: str
    tier_code: str
    customer_id: str
    tenant_id: str
    expires_at: int
    generation: int
    features: tuple[str, ...]
    max_users: int
    max_tenants: int
    heartbeat: HeartbeatPolicy
    quotas: Mapping[str, Quota] = field(default_factory=dict)
    step_up: Mapping[str, StepUpRule] = field(default_factory=dict)
    region: str | None = None

    def claims(self) -> dict[str, Any]:
        """The database-derived claims of a key token (no ``iat``/``jti``/``iss``)."""
        region = {"region": self.region} if self.region else {}
        return {
            "sub": self.license_id,
            "aud": self.product_code,
            "exp": self.expires_at,
            "product": self.product_id,
            "tier": self.tier_code,
            "customer": self.customer_id,
            "tenant": self.tenant_id,
            "features": sorted(self.features),
            "limits": {
                "maxUsers": self.max_users,
                "maxTenants": self.max_tenants,
                "quotas": serialized_map(self.quotas),
            },
            "heartbeat": self.heartbeat.serialized(),
            "stepUp": serialized_map(self.step_up),
            "gen": self.generation,
            **region,
        }


def key_claims(grant: Grant, *, issuer: str, now: int, jti: str) -> dict[str, Any]:
    """Every claim of a license key token."""
    return {"iss": issuer, "iat": now, "nbf": now, "jti": jti, **grant.claims()}


def standing(
    *,
    status: str,
    expires_at: int,
    token_generation: int,
    min_generation: int,
    customer_status: str,
    now: int,
) -> str:
    """The validation code of a license whose token verified: the first reason it is
    not usable, else ``VALID``."""
    if status == "revoked":
        return REVOKED
    if status == "suspended":
        return SUSPENDED
    if token_generation < min_generation:
        return SUPERSEDED
    if expires_at < now:
        return EXPIRED
    if customer_status != "active":
        return IDENTITY_DEACTIVATED
    return VALID


def differences(in_token: Mapping[str, Any], expected: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The audited claims where a token and the database disagree."""
    return [
        {"claim": name, "inToken": in_token.get(name), "expected": expected.get(name)}
        for name in AUDITED_CLAIMS
        if in_token.get(name) != expected.get(name)
    ]
