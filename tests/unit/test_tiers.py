"""Tier inheritance rules: resolution, cycles, display-only features."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from licensing_core.domain.tiers import (
    MAX_DEPTH,
    TierCycle,
    chain,
    check_parent,
    enforcement_features,
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
