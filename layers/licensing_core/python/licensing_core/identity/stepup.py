"""Tier-aware step-up authentication (RFC 9470).

One policy (``licensing_core/stepup_policy.json``, overridable with
``LICENSING_STEP_UP_POLICY``: a JSON document or a path to one) maps actions to a
required authentication context (``acr``) and a maximum authentication age
(``maxAge``, seconds). ``acr`` values map to numeric levels of assurance; an unknown
or malformed ``acr`` is the lowest level; an ``amr`` method such as ``mfa`` can lift a
token to its level. Licensed features carry their own requirements in the license's
``stepUp`` claim (a ``domain/policies.StepUpRule`` per feature), checked by
:func:`require_feature` in the application.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from licensing_core.domain.errors import (
    DomainError,
    Forbidden,
    LicenseExpired,
    StepUpRequired,
)
from licensing_core.domain.policies import StepUpRule
from licensing_core.identity.oidc import is_service_token
from licensing_core.settings import ConfigurationError, get_settings, per_settings

#: How far a token's ``auth_time`` may lie ahead of our clock (the issuer's clock skew).
CLOCK_LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class Requirement:
    acr_values: tuple[str, ...]
    max_age: int | None
    only_sensitive_tiers: bool = False


@dataclass(frozen=True)
class Policy:
    acr_levels: Mapping[str, int]
    amr_levels: Mapping[str, int]
    actions: Mapping[str, Requirement] = field(default_factory=dict)

    @classmethod
    def parse(cls, document: Mapping[str, Any]) -> Policy:
        try:
            return cls(
                acr_levels={str(k): int(v) for k, v in document["acrLevels"].items()},
                amr_levels={str(k): int(v) for k, v in document.get("amrLevels", {}).items()},
                actions={
                    name: requirement(
                        rule, only_sensitive_tiers=bool(rule.get("onlySensitiveTiers"))
                    )
                    for name, rule in document.get("actions", {}).items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ConfigurationError(f"invalid step-up policy: {error}") from error

    def level(self, claims: Mapping[str, Any]) -> int:
        """The assurance level of a token: its ``acr``, lifted by its ``amr`` methods."""
        acr = claims.get("acr")
        level = self.acr_levels.get(acr, 0) if isinstance(acr, str) else 0
        amr = claims.get("amr")
        if isinstance(amr, list):
            level = max([level, *(self.amr_levels.get(m, 0) for m in amr if isinstance(m, str))])
        return level

    def required_level(self, acr_values: Sequence[str]) -> int:
        """Any of the values satisfies: the lowest of their levels (unknown values count
        as unreachable, so a typo in the policy never lowers the bar)."""
        return min((self.acr_levels.get(value, 99) for value in acr_values), default=0)

    def check(
        self,
        rule: Requirement,
        claims: Mapping[str, Any],
        now: float,
        what: str,
        *,
        leeway: int = CLOCK_LEEWAY_SECONDS,
    ) -> None:
        """Raise :class:`StepUpRequired` when ``claims`` fall short of ``rule``. An
        ``auth_time`` later than ``now`` (beyond ``leeway``) is no proof of freshness: it
        would stay "recent" forever, so it is challenged like a missing one."""
        if rule.acr_values and self.level(claims) < self.required_level(rule.acr_values):
            raise StepUpRequired(
                f"{what} needs a stronger authentication ({' or '.join(rule.acr_values)})",
                acr_values=rule.acr_values,
                max_age=rule.max_age,
            )
        if rule.max_age is not None:
            auth_time = claims.get("auth_time")
            known = isinstance(auth_time, int | float) and not isinstance(auth_time, bool)
            if (
                not known
                or now - auth_time > rule.max_age  # type: ignore[operator]
                or auth_time > now + leeway  # type: ignore[operator]
            ):
                raise StepUpRequired(
                    f"{what} needs an authentication within the last {rule.max_age} seconds",
                    acr_values=rule.acr_values,
                    max_age=rule.max_age,
                )


def requirement(rule: Mapping[str, Any], *, only_sensitive_tiers: bool = False) -> Requirement:
    """A requirement from its JSON form ``{acr, maxAge}`` (``acr``: one value, a
    space-separated list or a JSON list)."""
    acr = rule.get("acr") or ()
    values = tuple(acr.split()) if isinstance(acr, str) else tuple(str(v) for v in acr)
    max_age = rule.get("maxAge")
    return Requirement(values, None if max_age is None else int(max_age), only_sensitive_tiers)


@cache
def _default_document() -> dict[str, Any]:
    text = resources.files("licensing_core").joinpath("stepup_policy.json").read_text()
    document: dict[str, Any] = json.loads(text)
    return document


@per_settings
def get_policy() -> Policy:
    """The configured policy: the packaged default, or ``LICENSING_STEP_UP_POLICY``."""
    override = get_settings().step_up_policy
    if not override:
        return Policy.parse(_default_document())
    text = override if override.lstrip().startswith("{") else Path(override).read_text()
    try:
        return Policy.parse(json.loads(text))
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"LICENSING_STEP_UP_POLICY is not JSON: {error}") from error


def enforce(
    action: str, claims: Mapping[str, Any], now: float, *, sensitive_tier: bool = False
) -> None:
    """Refuse ``action`` unless the caller's token meets the policy's requirement (a
    service account's never does: stepping up is for people)."""
    rule = get_policy().actions.get(action)
    if rule is None or (rule.only_sensitive_tiers and not sensitive_tier):
        return
    if is_service_token(claims):
        raise Forbidden(
            f"this action ({action}) needs a person who signed in recently; service "
            "accounts cannot step up",
            code="HUMAN_ONLY",
        )
    get_policy().check(
        rule, claims, now, f"this action ({action})", leeway=get_settings().leeway_seconds
    )


def require_feature(
    license_claims: Mapping[str, Any],
    feature: str,
    id_token_claims: Mapping[str, Any],
    now: float,
    *,
    policy: Policy | None = None,
) -> None:
    """For applications: may this user use ``feature`` of this license right now?

    Raises :class:`LicenseExpired` when the license expired mid-action, ``NotLicensed``
    (a :class:`DomainError` with code ``FEATURE_NOT_LICENSED``) when the feature is not
    granted, and :class:`StepUpRequired` (with the ready ``challenge`` header value) when
    the tier demands a stronger or more recent login for it.
    """
    exp = license_claims.get("exp")
    if not isinstance(exp, int | float) or now > exp:
        raise LicenseExpired("the license has expired")
    if feature not in (license_claims.get("features") or ()):
        raise DomainError(f"feature {feature!r} is not licensed", code="FEATURE_NOT_LICENSED")
    rules = license_claims.get("stepUp") or {}
    if feature in rules:
        rule = StepUpRule.parse(rules[feature])
        (policy or get_policy()).check(
            Requirement(rule.acr_values, rule.max_age),
            id_token_claims,
            now,
            f"the feature {feature!r}",
        )
