"""A tier's policies as typed values, with one spelling from storage to token.

Heartbeat, quotas, step-up rules and the offline policy are frozen values from the
moment a tier is read until they become claims. Each has one serialized form,
camelCase (:meth:`serialized`): what the tiers table stores, what the API shows and
what a key token carries (``heartbeat``, ``limits.quotas``, ``stepUp``). :meth:`parse`
reads that form and also the snake_case one that tiers written before it were stored
in (``interval_seconds``, ``max_age``...), so deployed tables read as they are and
take the one spelling at their tier's next write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal, Self, get_args

Period = Literal["day", "month"]

#: What each field type annotation (a string: ``from __future__ import annotations``)
#: accepts when parsed; ``bool`` is no ``int`` here, nor an ``int`` a ``bool``.
_CHECKS = {
    "int": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "bool": lambda value: isinstance(value, bool),
    "str": lambda value: isinstance(value, str),
    "Period": lambda value: value in get_args(Period),
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class Policy:
    """Serialization shared by the policies: their fields, camelCase."""

    #: Set by ``@dataclass`` on each policy (and so ``fields`` type-checks here).
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if not _CHECKS[str(spec.type)](value):
                raise ValueError(f"{type(self).__name__}.{_camel(spec.name)}: {value!r}")

    def serialized(self) -> dict[str, Any]:
        """The one spelling: stored, shown by the API, carried by tokens."""
        return {_camel(spec.name): getattr(self, spec.name) for spec in fields(self)}

    @classmethod
    def parse(cls, data: Any) -> Self:
        """A policy from its serialized form, or from the legacy snake_case one (a field
        absent in both takes its default, the one spelling wins over the legacy one;
        :class:`ValueError` when a field has no value nor default, or the wrong type)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"{cls.__name__}: not an object: {data!r}")
        values = {
            spec.name: data[key]
            for spec in fields(cls)
            for key in (spec.name, _camel(spec.name))  # the later wins
            if key in data
        }
        try:
            return cls(**values)
        except TypeError as error:
            raise ValueError(f"{cls.__name__}: {error}") from error

    @classmethod
    def parse_map(cls, data: Any) -> dict[str, Self]:
        """A map of policies by key (a meter's quota, a feature's step-up rule)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"{cls.__name__} map: not an object: {data!r}")
        return {str(key): cls.parse(value) for key, value in data.items()}


def serialized_map(policies: Mapping[str, Policy]) -> dict[str, dict[str, Any]]:
    """A map of policies in the one spelling, by key."""
    return {key: policy.serialized() for key, policy in sorted(policies.items())}


@dataclass(frozen=True)
class HeartbeatPolicy(Policy):
    """How often a machine renews its token, and how long a token lives (a machine that
    misses heartbeats for longer is dead and loses its seat)."""

    interval_seconds: int = 3600
    ttl_seconds: int = 172_800


@dataclass(frozen=True)
class Quota(Policy):
    """A metered quota: ``limit`` uses per ``period``."""

    limit: int
    period: Period = "month"


@dataclass(frozen=True)
class StepUpRule(Policy):
    """What using a feature takes: an authentication of ``acr`` (one value or several,
    space-separated) no older than ``max_age`` seconds."""

    acr: str
    max_age: int

    @property
    def acr_values(self) -> tuple[str, ...]:
        return tuple(self.acr.split())


@dataclass(frozen=True)
class OfflinePolicy(Policy):
    """Whether machines may run offline on a machine file and for how long; a tier
    without one allows no offline use (``domain/offline`` applies it)."""

    allowed: bool = False
    default_ttl_seconds: int = 7 * 86_400
    max_ttl_seconds: int = 30 * 86_400
    max_borrow_seconds: int = 0
