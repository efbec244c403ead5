"""Tier rules: inheritance (resolution, cycles, display-only features) and prices."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from licensing_core.domain.errors import PriceMissing, TierCycle
from licensing_core.domain.tiers import (
    MAX_DEPTH,
    PRICE_FIELDS,
    chain,
    check_parent,
    check_prices,
    enforcement_features,
    is_free,
    offered_prices,
    resolve_features,
)

OWN = {"free": {"sso"}, "pro": {"passkeys"}, "ent": {"audit_log", "priority_support"}}
PARENTS: dict[str, str | None] = {"free": None, "pro": "free", "ent": "pro"}


def test_three_level_chain_resolves_transitively() -> None:
    assert chain("ent", PARENTS) == ["ent", "pro", "free"]
    assert resolve_features("ent", PARENTS, OWN) == {
        "sso",
        "passkeys",
        "audit_log",
        "priority_support",
    }
    assert resolve_features("free", PARENTS, OWN) == {"sso"}


def test_fan_out_siblings_share_a_parent_without_sharing_each_other() -> None:
    parents: dict[str, str | None] = {"base": None, "a": "base", "b": "base"}
    own = {"base": {"x"}, "a": {"y"}, "b": {"z"}}
    assert resolve_features("a", parents, own) == {"x", "y"}
    assert resolve_features("b", parents, own) == {"x", "z"}


def test_display_only_features_never_reach_enforcement() -> None:
    resolved = resolve_features("ent", PARENTS, OWN)
    assert enforcement_features(resolved, {"priority_support"}) == {"sso", "passkeys", "audit_log"}


def test_self_cycle_is_refused() -> None:
    with pytest.raises(TierCycle):
        check_parent("pro", "pro", PARENTS)


def test_two_cycle_is_refused() -> None:
    with pytest.raises(TierCycle):
        check_parent("free", "pro", PARENTS)  # pro already includes free


def test_long_cycle_is_refused_and_a_valid_reparent_is_not() -> None:
    with pytest.raises(TierCycle):
        check_parent("free", "ent", PARENTS)
    check_parent("ent", "free", PARENTS)  # skipping a level is fine
    check_parent("pro", None, PARENTS)


def test_fifty_deep_chain_resolves() -> None:
    parents: dict[str, str | None] = {f"t{i}": (f"t{i - 1}" if i else None) for i in range(50)}
    own = {f"t{i}": {f"f{i}"} for i in range(50)}
    assert resolve_features("t49", parents, own) == {f"f{i}" for i in range(50)}


def test_corrupt_stored_cycle_cannot_loop_forever() -> None:
    with pytest.raises(TierCycle):
        resolve_features("a", {"a": "b", "b": "c", "c": "a"}, {})


def test_chains_deeper_than_the_limit_are_refused() -> None:
    parents: dict[str, str | None] = {
        f"t{i}": (f"t{i - 1}" if i else None) for i in range(MAX_DEPTH + 1)
    }
    with pytest.raises(TierCycle, match="more than"):
        chain(f"t{MAX_DEPTH}", parents)


names = st.sampled_from([f"t{i}" for i in range(8)])


@given(
    parents=st.dictionaries(names, st.one_of(st.none(), names)),
    own=st.dictionaries(names, st.frozensets(st.sampled_from("abcdefg"), max_size=3)),
    start=names,
)
def test_resolution_terminates_and_equals_the_union_along_the_chain(
    parents: dict[str, str | None], own: dict[str, frozenset[str]], start: str
) -> None:
    try:
        path = chain(start, parents)
    except TierCycle:
        with pytest.raises(TierCycle):
            resolve_features(start, parents, own)
        return
    assert len(path) == len(set(path))
    expected: set[str] = set()
    for tier in path:
        expected |= own.get(tier, frozenset())
    assert resolve_features(start, parents, own) == expected


@given(parents=st.dictionaries(names, st.one_of(st.none(), names)), tier=names, parent=names)
def test_check_parent_never_lets_a_cycle_be_written(
    parents: dict[str, str | None], tier: str, parent: str
) -> None:
    try:
        chain(tier, parents)  # only start from graphs that are acyclic along this path
        for name in parents:
            chain(name, parents)
    except TierCycle:
        return
    try:
        check_parent(tier, parent, parents)
    except TierCycle:
        return
    updated = {**parents, tier: parent}
    for name in updated:
        chain(name, updated)  # never raises: the write would leave no cycle


# Prices: a period is offered only with its price

PERIOD_LISTS = st.lists(st.sampled_from(["monthly", "annual"]), unique=True, max_size=2)
PRICES = st.fixed_dictionaries(
    {"monthly": st.none() | st.integers(0, 10**6), "annual": st.none() | st.integers(0, 10**6)}
)


@given(PERIOD_LISTS, PRICES)
def test_a_period_is_offered_only_with_its_price(
    periods: list[str], prices: dict[str, int | None]
) -> None:
    unpriced = [period for period in periods if prices[period] is None]
    if unpriced:
        with pytest.raises(PriceMissing) as refused:
            check_prices(periods, prices)
        assert refused.value.extensions["period"] == unpriced[0]
        assert refused.value.extensions["field"] == PRICE_FIELDS[unpriced[0]]
    else:
        check_prices(periods, prices)
    offered = offered_prices(periods, prices)
    assert list(offered) == [p for p in ("monthly", "annual") if p in periods and p not in unpriced]
    assert all(offered[period] == prices[period] for period in offered)
    assert is_free(offered) == (bool(offered) and set(offered.values()) == {0})


def test_zero_given_is_free_and_nothing_offered_is_not() -> None:
    assert is_free(offered_prices(["monthly"], {"monthly": 0, "annual": 9900}))
    assert not is_free(offered_prices(["monthly", "annual"], {"monthly": 0, "annual": 9900}))
    assert not is_free(offered_prices(["annual"], {"monthly": 0, "annual": None}))
