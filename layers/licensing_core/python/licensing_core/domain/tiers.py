"""Tier rules: inheritance and prices.

A tier includes every feature of its parent, transitively. Pure rules over plain
mappings, so they are easy to test exhaustively. A cycle is refused when it would be
written (:func:`check_parent`), and resolution guards with a visited set so corrupt
stored data can never loop forever.

A tier offers a billing period only with that period's price: nobody's price is ever
invented (an unset price is not zero; zero, given, is free).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from licensing_core.domain.errors import PriceMissing, TierCycle

#: The longest inheritance chain accepted; real catalogs have three or four levels.
MAX_DEPTH = 64


#: Each billing period and the (wire) name of its price.
PRICE_FIELDS = {"monthly": "monthlyPrice", "annual": "annualPrice"}


def chain(tier_id: str, parent_of: Mapping[str, str | None]) -> list[str]:
    """``tier_id`` followed by its ancestors, nearest first."""
    seen: list[str] = []
    current: str | None = tier_id
    while current is not None:
        if current in seen:
            raise TierCycle(f"tier {tier_id} inherits from itself through {current}")
        if len(seen) == MAX_DEPTH:
            raise TierCycle(f"tier {tier_id} inherits through more than {MAX_DEPTH} tiers")
        seen.append(current)
        current = parent_of.get(current)
    return seen


def check_parent(tier_id: str, parent_id: str | None, parent_of: Mapping[str, str | None]) -> None:
    """Refuse to make ``parent_id`` the parent of ``tier_id`` if that closes a loop."""
    if parent_id is None:
        return
    if parent_id == tier_id:
        raise TierCycle(f"tier {tier_id} cannot include itself")
    chain(tier_id, {**parent_of, tier_id: parent_id})


def resolve_features(
    tier_id: str,
    parent_of: Mapping[str, str | None],
    own_features: Mapping[str, Collection[str]],
) -> set[str]:
    """Every feature key a tier grants: its own and all its ancestors'."""
    resolved: set[str] = set()
    for ancestor in chain(tier_id, parent_of):
        resolved.update(own_features.get(ancestor, ()))
    return resolved


def enforcement_features(features: Collection[str], display_only: Collection[str]) -> set[str]:
    """What goes into tokens: display-only features are for pricing pages, never enforced."""
    return set(features) - set(display_only)


def check_prices(periods: Iterable[str], prices: Mapping[str, int | None]) -> None:
    """Refuse a billing period without its price (``prices``: period -> price or None).
    A price of a period not offered is kept, not shown: it may be set ahead of time."""
    for period in periods:
        if prices.get(period) is None:
            field = PRICE_FIELDS[period]
            raise PriceMissing(
                f"billingPeriods offers {period} but {field} is not set; give {field} "
                f"(0 for free) or drop {period}",
                period=period,
                field=field,
            )


def offered_prices(periods: Collection[str], prices: Mapping[str, int | None]) -> dict[str, int]:
    """The periods a tier offers, each with its price: only those that have one, monthly
    first."""
    return {
        period: int(price)
        for period in PRICE_FIELDS
        if period in periods and (price := prices.get(period)) is not None
    }


def is_free(offered: Mapping[str, int]) -> bool:
    """Whether every offered period costs nothing (a tier that offers none is not free)."""
    return bool(offered) and not any(offered.values())
