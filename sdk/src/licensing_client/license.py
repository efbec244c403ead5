"""The license an app holds: verified claims, feature gates, limits and step-up rules.

A :class:`License` is immutable. ``has()`` and ``limit()`` are dictionary lookups
(precomputed at construction); ``has()`` also answers ``False`` once the license is
expired, dropped by the server (revoked, suspended...) or the clock was set back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from licensing_client.errors import (
    ClockTampered,
    FeatureNotLicensed,
    LicenseExpired,
    NotLicensed,
    StepUpRequired,
)
from licensing_client.jose import DEFAULT_LEEWAY

#: Default ACR levels. Numeric values (``"0"``, ``"1"``, ``"2"``...) are their own level.
#: Unknown or malformed ``acr`` values are level 0.
DEFAULT_ACR_LEVELS: Mapping[str, int] = MappingProxyType(
    {
        "pwd": 1,
        "mfa": 2,
        "phr": 3,
        "phrh": 4,
        "urn:okta:loa:1fa:any": 1,
        "urn:okta:loa:1fa:pwd": 1,
        "urn:okta:loa:2fa:any": 2,
        "urn:okta:loa:2fa:any:ifpossible": 2,
    }
)
#: ``amr`` values (RFC 8176) that prove a multi-factor authentication: they lift the
#: authentication to the ``mfa`` level whatever its ``acr``.
MFA_AMR_VALUES = frozenset({"mfa", "otp", "hwk"})


class AcrLevels:
    """Ranks ``acr`` values so that "at least ``mfa``" has a meaning.

    ``levels`` maps acr values to integers (default :data:`DEFAULT_ACR_LEVELS`);
    numeric acr values rank as their number; anything else ranks 0. An ``amr`` with one
    of :data:`MFA_AMR_VALUES` lifts the rank to ``levels["mfa"]``.
    """

    __slots__ = ("levels", "mfa_amr", "mfa_level")

    def __init__(
        self,
        levels: Mapping[str, int] | None = None,
        *,
        mfa_amr: Iterable[str] = MFA_AMR_VALUES,
        mfa_level: int | None = None,
    ):
        self.levels: Mapping[str, int] = MappingProxyType(
            dict(DEFAULT_ACR_LEVELS if levels is None else levels)
        )
        self.mfa_amr = frozenset(mfa_amr)
        self.mfa_level = mfa_level if mfa_level is not None else self.levels.get("mfa", 2)

    def rank(self, acr: object) -> int | None:
        """The level of an acr value, ``None`` when it has none."""
        if not isinstance(acr, str):
            return None
        if acr in self.levels:
            return self.levels[acr]
        if acr.isascii() and acr.isdigit() and len(acr) <= 3:
            return int(acr)
        return None

    def level_of(self, claims: Mapping[str, Any]) -> int:
        """The level reached by an ID token with these claims."""
        level = self.rank(claims.get("acr")) or 0
        amr = claims.get("amr")
        if isinstance(amr, list) and not self.mfa_amr.isdisjoint(
            value for value in amr if isinstance(value, str)
        ):
            level = max(level, self.mfa_level)
        return level

    def satisfies(self, claims: Mapping[str, Any], required: str) -> bool:
        needed = self.rank(required)
        if needed is None:  # a value we cannot rank: only itself satisfies it
            return claims.get("acr") == required
        return self.level_of(claims) >= needed


DEFAULT_ACR = AcrLevels()


class StepUpRule(NamedTuple):
    acr: str | None
    max_age: int | None


class Standing:
    """Whether the server still lets a license be used: shared by every :class:`License`
    of one license id held by one client, so dropping it reaches them all."""

    __slots__ = ("lost",)

    def __init__(self) -> None:
        #: Why the license is no longer usable (``None`` while it is).
        self.lost: NotLicensed | None = None


class ClockFloor:
    """The earliest plausible "now": maintained by the clock guard."""

    __slots__ = ("min_time",)

    def __init__(self) -> None:
        self.min_time = -math.inf


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple([_freeze(v) for v in value])
    return value


def _copy(value: Any) -> Any:
    """A deep copy as plain JSON values (mappings become dicts, sequences lists)."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


class License:
    """Verified claims of a license key or a machine token, read-only.

    Build one with :meth:`LicensingClient.verify_license_key`,
    :meth:`LicensingClient.activate` (or ``client.license``), not from unverified claims.
    Everything ``has()``, ``limit()`` and ``require()`` need is computed once, here.
    """

    __slots__ = (
        "_acr",
        "_claims",
        "_clock",
        "_features",
        "_floor",
        "_frozen",
        "_leeway",
        "_limits",
        "_meters",
        "_standing",
        "_step_up",
        "_valid_from",
        "_valid_until",
        "expires_at",
        "issued_at",
    )
    _acr: AcrLevels
    _claims: dict[str, Any]  #: private: never handed out (``claims`` is a frozen view)
    _clock: Callable[[], float]
    _features: frozenset[str]
    _floor: ClockFloor
    _frozen: Mapping[str, Any] | None
    _leeway: float
    _limits: Mapping[str, int | float]
    _meters: frozenset[str]
    _standing: Standing
    _step_up: Mapping[str, StepUpRule]
    _valid_from: float
    _valid_until: float
    expires_at: float
    issued_at: float | None

    def __init__(
        self,
        claims: Mapping[str, Any],
        *,
        clock: Callable[[], float] = time.time,
        leeway: float = DEFAULT_LEEWAY,
        acr_levels: AcrLevels | None = None,
        standing: Standing | None = None,
        clock_floor: ClockFloor | None = None,
    ):
        self._setup(_copy(claims), clock, leeway, acr_levels, standing, clock_floor)

    @classmethod
    def _of_verified(
        cls,
        claims: dict[str, Any],
        clock: Callable[[], float],
        leeway: float,
        acr_levels: AcrLevels | None,
        standing: Standing | None,
        clock_floor: ClockFloor | None,
    ) -> License:
        """A License that takes ownership of ``claims`` (fresh from ``json.loads``: no
        copy needed, nobody else holds it)."""
        self = cls.__new__(cls)
        self._setup(claims, clock, leeway, acr_levels, standing, clock_floor)
        return self

    def _setup(
        self,
        claims: dict[str, Any],
        clock: Callable[[], float],
        leeway: float,
        acr_levels: AcrLevels | None,
        standing: Standing | None,
        clock_floor: ClockFloor | None,
    ) -> None:
        features = claims.get("features")
        limits = claims.get("limits")
        flat: dict[str, int | float] = {}
        meters: set[str] = set()
        if isinstance(limits, dict):
            quotas = limits.get("quotas")
            for name, quota in quotas.items() if isinstance(quotas, dict) else ():
                value = _number(quota.get("limit")) if isinstance(quota, dict) else _number(quota)
                if value is not None:
                    flat[name] = int(value) if value.is_integer() else value
                    meters.add(name)
            for name, value in limits.items():
                if name != "quotas" and _number(value) is not None:
                    flat[name] = value
        step_up = claims.get("stepUp")
        rules: dict[str, StepUpRule] = {}
        for feature, rule in step_up.items() if isinstance(step_up, dict) else ():
            if isinstance(rule, dict):
                acr, max_age = rule.get("acr"), _number(rule.get("maxAge"))
                rules[feature] = StepUpRule(
                    acr if isinstance(acr, str) and acr else None,
                    int(max_age) if max_age is not None and max_age >= 0 else None,
                )
        exp = _number(claims.get("exp"))
        nbf = _number(claims.get("nbf"))
        s = object.__setattr__
        s(self, "_claims", claims)
        s(self, "_frozen", None)
        s(
            self,
            "_features",
            frozenset([f for f in features if isinstance(f, str)])
            if isinstance(features, list)
            else frozenset(),
        )
        s(self, "_limits", MappingProxyType(flat))
        s(self, "_meters", frozenset(meters))
        s(self, "_step_up", MappingProxyType(rules))
        s(self, "_clock", clock)
        s(self, "_leeway", leeway)
        s(self, "_acr", acr_levels or DEFAULT_ACR)
        s(self, "_standing", standing or Standing())
        s(self, "_floor", clock_floor or ClockFloor())
        s(self, "_valid_from", -math.inf if nbf is None else nbf - leeway)
        s(self, "_valid_until", -math.inf if exp is None else exp + leeway)
        #: ``exp`` of the token (POSIX seconds).
        s(self, "expires_at", exp if exp is not None else -math.inf)
        #: ``iat`` of the token, when it has one.
        s(self, "issued_at", _number(claims.get("iat")))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a License is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a License is read-only")

    def __repr__(self) -> str:  # no client id, no machine id, no token
        return (
            f"License(license_id={self.license_id!r}, product={self.product!r}, "
            f"tier={self.tier!r}, features={sorted(self._features)!r}, "
            f"expires_at={self.expires_at!r}, usable={self.usable()!r})"
        )

    # -- the claims ----------------------------------------------------------------

    @property
    def claims(self) -> Mapping[str, Any]:
        """Every claim, read-only (nested mappings are read-only, lists are tuples)."""
        frozen = self._frozen
        if frozen is None:
            frozen = _freeze(self._claims)
            object.__setattr__(self, "_frozen", frozen)
        return frozen

    def to_dict(self) -> dict[str, Any]:
        """The claims as plain (JSON-serializable) values: a copy."""
        return _copy(self._claims)

    @property
    def license_id(self) -> str:
        return str(self._claims.get("sub", ""))

    @property
    def product(self) -> str:
        """The product code (the audience)."""
        aud = self._claims.get("aud")
        return aud if isinstance(aud, str) else str(aud[0]) if aud else ""

    @property
    def tier(self) -> str | None:
        tier = self._claims.get("tier")
        return tier if isinstance(tier, str) else None

    @property
    def customer(self) -> str | None:
        return self._claims.get("customer")

    @property
    def tenant(self) -> str | None:
        return self._claims.get("tenant")

    @property
    def region(self) -> str | None:
        """The one region this license may be used in; None: anywhere."""
        region = self._claims.get("region")
        return region if isinstance(region, str) else None

    @property
    def features(self) -> frozenset[str]:
        return self._features

    @property
    def limits(self) -> Mapping[str, int | float]:
        """``maxUsers``, ``maxTenants`` and every quota's ``limit`` by name."""
        return self._limits

    @property
    def meters(self) -> frozenset[str]:
        """The tier's metered quotas (``limits.quotas``): what ``report_usage`` counts."""
        return self._meters

    @property
    def step_up(self) -> Mapping[str, StepUpRule]:
        return self._step_up

    @property
    def is_machine_token(self) -> bool:
        """Whether these claims come from an activation (machine) token."""
        return "cid" in self._claims

    @property
    def machine_id(self) -> str | None:
        return self._claims.get("machineId")

    @property
    def heartbeat_interval(self) -> float | None:
        heartbeat = self._claims.get("heartbeat")
        return _number(heartbeat.get("intervalSeconds")) if isinstance(heartbeat, Mapping) else None

    # -- gates ---------------------------------------------------------------------

    def has(self, feature: str) -> bool:
        """Whether ``feature`` is licensed and usable now (never raises; no step-up)."""
        if feature not in self._features or self._standing.lost is not None:
            return False
        now = self._clock()
        return self._valid_from <= now <= self._valid_until and now >= self._floor.min_time

    def limit(self, name: str) -> int | float | None:
        """``maxUsers``, ``maxTenants``, or a quota's ``limit`` (``"api_calls"``);
        ``None`` when the license sets none. Reports the license, gate with ``has()``."""
        return self._limits.get(name)

    def usable(self, now: float | None = None) -> bool:
        """Whether the license is usable at ``now`` (default: the clock)."""
        try:
            self.check(now)
        except NotLicensed:
            return False
        return True

    def check(self, now: float | None = None) -> float:
        """Raise unless the license is usable now; return the time used."""
        lost = self._standing.lost
        if lost is not None:
            raise lost.with_traceback(None)  # shared: never let its traceback grow
        now = self._clock() if now is None else now
        if now < self._floor.min_time:
            raise ClockTampered("the system clock is behind the last trusted time")
        if now > self._valid_until:
            raise LicenseExpired(
                "the machine token has expired: renew it with a heartbeat"
                if self.is_machine_token
                else "the license has expired"
            )
        if now < self._valid_from:
            raise LicenseExpired("the license is not valid yet", code="NOT_YET_VALID")
        return now

    def require(
        self,
        feature: str,
        *,
        id_token_claims: Mapping[str, Any] | None = None,
        now: float | None = None,
    ) -> None:
        """Allow ``feature`` now, or raise why not.

        Raises :class:`LicenseRevoked`, :class:`ClockTampered` or :class:`LicenseExpired`
        when the license is not usable, :class:`FeatureNotLicensed` when the feature is
        not in it, and :class:`StepUpRequired` when the tier demands a stronger or more
        recent authentication than the user's (already verified) ID token claims show:
        ``acr`` at least the rule's level (``amr`` ``mfa``/``otp``/``hwk`` count as
        ``mfa``), and ``auth_time`` within the rule's ``maxAge`` (missing or in the future = too old).
        """
        now = self.check(now)
        if feature not in self._features:
            raise FeatureNotLicensed(feature)
        rule = self._step_up.get(feature)
        if rule is None:
            return
        claims = id_token_claims or {}
        if rule.acr is not None and not self._acr.satisfies(claims, rule.acr):
            raise StepUpRequired(
                f"{feature} requires a stronger authentication ({rule.acr})",
                feature=feature,
                acr_values=rule.acr,
                max_age=rule.max_age,
            )
        if rule.max_age is not None:
            auth_time = _number(claims.get("auth_time"))
            # A future auth_time (beyond the leeway) would read as fresh forever.
            if (
                auth_time is None
                or now - auth_time > rule.max_age
                or auth_time > now + self._leeway
            ):
                raise StepUpRequired(
                    f"{feature} requires an authentication within the last {rule.max_age} seconds",
                    feature=feature,
                    acr_values=rule.acr,
                    max_age=rule.max_age,
                )
