"""Tier policies (``domain/policies``): one spelling, legacy items still read, bad data
refused; the claims made from them; the offline rules over them."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from licensing_core import schemas
from licensing_core.domain import offline
from licensing_core.domain.errors import OfflineNotAllowed, TtlAbovePolicy
from licensing_core.domain.licenses import Grant
from licensing_core.domain.policies import (
    HeartbeatPolicy,
    OfflinePolicy,
    Policy,
    Quota,
    StepUpRule,
)

#: Each policy and the API model that shows it.
PAIRS: list[tuple[type[Policy], type[schemas.ApiModel]]] = [
    (HeartbeatPolicy, schemas.HeartbeatPolicy),
    (Quota, schemas.Quota),
    (StepUpRule, schemas.StepUpRequirement),
    (OfflinePolicy, schemas.OfflinePolicy),
]

#: Accepted API bodies, one per policy (what a vendor sends).
BODIES: dict[type[Policy], dict[str, Any]] = {
    HeartbeatPolicy: {"intervalSeconds": 900, "ttlSeconds": 7200},
    Quota: {"limit": 250, "period": "day"},
    StepUpRule: {"acr": "mfa", "maxAge": 300},
    OfflinePolicy: {
        "allowed": True,
        "defaultTtlSeconds": 86_400,
        "maxTtlSeconds": 30 * 86_400,
        "maxBorrowSeconds": 7 * 86_400,
    },
}


@pytest.mark.parametrize(("policy", "model"), PAIRS)
def test_the_serialized_form_is_the_api_spelling(
    policy: type[Policy], model: type[schemas.ApiModel]
) -> None:
    parsed = policy.parse(BODIES[policy])
    assert parsed.serialized() == BODIES[policy]
    shown = model.model_validate(parsed.serialized()).model_dump(by_alias=True)
    assert shown == parsed.serialized()  # same names, same values, nothing more or less


@pytest.mark.parametrize(("policy", "model"), PAIRS)
def test_a_legacy_snake_case_item_reads_as_the_same_policy(
    policy: type[Policy], model: type[schemas.ApiModel]
) -> None:
    """What tiers stored before this spelling: the API model dumped by field name."""
    legacy = model.model_validate(BODIES[policy]).model_dump(mode="json")
    assert legacy != BODIES[policy] or policy is Quota  # Quota's names are one word
    assert policy.parse(legacy) == policy.parse(BODIES[policy])


def test_absent_fields_take_the_defaults_and_required_ones_are_required() -> None:
    assert HeartbeatPolicy.parse({}) == HeartbeatPolicy(3600, 172_800)
    assert OfflinePolicy.parse({}) == OfflinePolicy()
    assert not OfflinePolicy().allowed
    assert Quota.parse({"limit": 5}) == Quota(5, "month")
    both = {"ttlSeconds": 7200, "ttl_seconds": 3600}  # the one spelling wins
    assert HeartbeatPolicy.parse(both).ttl_seconds == 7200
    with pytest.raises(ValueError, match="limit"):
        Quota.parse({"period": "day"})
    with pytest.raises(ValueError, match="max_age"):
        StepUpRule.parse({"acr": "mfa"})


@pytest.mark.parametrize(
    ("policy", "data"),
    [
        (HeartbeatPolicy, {"intervalSeconds": "3600"}),
        (HeartbeatPolicy, {"ttl_seconds": 7200.5}),
        (Quota, {"limit": True}),
        (Quota, {"limit": 10, "period": "year"}),
        (StepUpRule, {"acr": ["mfa"], "maxAge": 60}),
        (StepUpRule, {"acr": "mfa", "maxAge": None}),
        (OfflinePolicy, {"allowed": 1}),
        (OfflinePolicy, ["allowed"]),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(policy: type[Policy], data: Any) -> None:
    with pytest.raises(ValueError, match=policy.__name__):
        policy.parse(data)


def test_maps_parse_each_entry_and_serialize_in_key_order() -> None:
    rules = StepUpRule.parse_map(
        {"export": {"acr": "mfa hwk", "max_age": 60}, "audit": BODIES[StepUpRule]}
    )
    assert rules == {"export": StepUpRule("mfa hwk", 60), "audit": StepUpRule("mfa", 300)}
    assert rules["export"].acr_values == ("mfa", "hwk")
    with pytest.raises(ValueError):
        Quota.parse_map([{"limit": 1}])


@given(
    interval=st.integers(60, 86_400),
    ttl=st.integers(120, 30 * 86_400),
    limit=st.integers(1, 10**9),
    period=st.sampled_from(["day", "month"]),
)
def test_parse_undoes_serialized(interval: int, ttl: int, limit: int, period: Any) -> None:
    for value in (HeartbeatPolicy(interval, ttl), Quota(limit, period), StepUpRule("mfa", ttl)):
        assert type(value).parse(value.serialized()) == value


def grant(**policies: Any) -> Grant:
    return Grant(
        license_id="lic_1",
        product_id="prd_1",
        product_code="Rdn.Identity",
        tier_code="pro",
        customer_id="cus_1",
        tenant_id="default",
        expires_at=2_000_000_000,
        generation=1,
        features=("sso", "audit_log"),
        max_users=5,
        max_tenants=1,
        **policies,
    )


def test_key_claims_are_made_from_the_typed_policies() -> None:
    claims = grant(
        heartbeat=HeartbeatPolicy(900, 7200),
        quotas={"storage": Quota(10, "day"), "api_calls": Quota(1000)},
        step_up={"audit_log": StepUpRule("mfa", 300)},
    ).claims()
    assert claims["heartbeat"] == {"intervalSeconds": 900, "ttlSeconds": 7200}
    assert claims["limits"] == {
        "maxUsers": 5,
        "maxTenants": 1,
        "quotas": {
            "api_calls": {"limit": 1000, "period": "month"},
            "storage": {"limit": 10, "period": "day"},
        },
    }
    assert list(claims["limits"]["quotas"]) == ["api_calls", "storage"]
    assert claims["stepUp"] == {"audit_log": {"acr": "mfa", "maxAge": 300}}
    bare = grant(heartbeat=HeartbeatPolicy()).claims()
    assert (bare["limits"]["quotas"], bare["stepUp"]) == ({}, {})


def test_offline_rules_apply_the_policy() -> None:
    with pytest.raises(OfflineNotAllowed):
        offline.file_ttl(OfflinePolicy(), None)
    policy = OfflinePolicy.parse(BODIES[OfflinePolicy])
    assert offline.file_ttl(policy, None) == 86_400
    assert offline.file_ttl(policy, 3600) == 3600
    with pytest.raises(TtlAbovePolicy):
        offline.file_ttl(policy, 30 * 86_400 + 1)
    assert offline.borrow_seconds(policy, 7 * 86_400) == 7 * 86_400
    with pytest.raises(TtlAbovePolicy):
        offline.borrow_seconds(policy, 7 * 86_400 + 1)
    with pytest.raises(OfflineNotAllowed):
        offline.borrow_seconds(OfflinePolicy(allowed=True), 3600)
