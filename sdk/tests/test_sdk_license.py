"""The License object: feature gates, limits, expiry, and the tier's step-up rules."""

from __future__ import annotations

from typing import Any

import pytest
from licensing_client import (
    DEFAULT_ACR_LEVELS,
    AcrLevels,
    FeatureNotLicensed,
    License,
    LicenseExpired,
    StepUpRequired,
)
from sdk_fakes import T0, FakeClock, license_claims


@pytest.fixture
def license_(clock: FakeClock) -> License:
    return License(license_claims(), clock=clock)


def test_has_answers_from_the_features_claim(license_: License) -> None:
    assert license_.has("sso")
    assert license_.has("data_export")  # has() is the license, not the step-up
    assert not license_.has("priority_support")
    assert not license_.has("")
    assert license_.features == frozenset(
        {"audit_log", "data_export", "multi_tenant", "passkeys", "sso"}
    )


def test_limit_reads_limits_and_quotas(license_: License) -> None:
    assert license_.limit("maxUsers") == 50
    assert license_.limit("maxTenants") == 10
    assert license_.limit("api_calls") == 10_000_000
    assert license_.limit("nope") is None
    assert dict(license_.limits) == {"maxUsers": 50, "maxTenants": 10, "api_calls": 10_000_000}


def test_odd_claims_are_ignored_not_fatal(clock: FakeClock) -> None:
    odd = License(
        license_claims(
            features="sso", limits={"maxUsers": "many", "quotas": {"x": {"limit": True}}}
        ),
        clock=clock,
    )
    assert not odd.has("sso")
    assert odd.limit("maxUsers") is None
    assert odd.limit("x") is None


def test_a_license_is_read_only_and_so_are_its_claims(license_: License) -> None:
    with pytest.raises(AttributeError):
        license_.expires_at = 0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del license_.issued_at
    with pytest.raises(TypeError):
        license_.claims["features"] = ()  # type: ignore[index]
    assert isinstance(license_.claims["features"], tuple)
    with pytest.raises(TypeError):
        license_.claims["limits"]["maxUsers"] = 1_000  # type: ignore[index]


def test_a_license_owns_a_copy_of_the_claims(clock: FakeClock) -> None:
    claims = license_claims()
    held = License(claims, clock=clock)
    claims["features"].append("root")
    claims["limits"]["maxUsers"] = 10**9
    assert not held.has("root")
    assert held.claims["limits"]["maxUsers"] == 50
    assert held.to_dict()["features"] == [
        "audit_log",
        "data_export",
        "multi_tenant",
        "passkeys",
        "sso",
    ]


def test_properties_and_a_repr_without_secrets(clock: FakeClock) -> None:
    held = License(license_claims(cid="cli_secret", machineId="m-secret"), clock=clock)
    assert held.license_id == "lic_1"
    assert held.product == "Rdn.Identity"
    assert held.tier == "enterprise"
    assert held.customer == "cus_1"
    assert held.tenant == "default"
    assert held.is_machine_token
    assert held.machine_id == "m-secret"
    assert held.heartbeat_interval == 3600
    assert held.issued_at == T0
    text = repr(held)
    assert "lic_1" in text
    assert "cli_secret" not in text
    assert "m-secret" not in text


def test_has_turns_false_when_the_license_expires(clock: FakeClock) -> None:
    held = License(license_claims(exp=int(T0) + 100), clock=clock, leeway=30)
    assert held.has("sso")
    clock.advance(130)
    assert held.has("sso")  # within the leeway
    clock.advance(1)
    assert not held.has("sso")
    assert not held.usable()
    with pytest.raises(LicenseExpired) as caught:
        held.require("sso")
    assert caught.value.code == "EXPIRED"


def test_expiry_mid_action_is_reported_by_require(clock: FakeClock) -> None:
    held = License(license_claims(exp=int(T0) + 10), clock=clock, leeway=0)
    held.require("sso")
    with pytest.raises(LicenseExpired):
        held.require("sso", now=T0 + 11)


def test_not_yet_valid(clock: FakeClock) -> None:
    held = License(license_claims(nbf=int(T0) + 100), clock=clock, leeway=0)
    assert not held.has("sso")
    with pytest.raises(LicenseExpired) as caught:
        held.require("sso")
    assert caught.value.code == "NOT_YET_VALID"


def test_require_refuses_a_feature_outside_the_license(license_: License) -> None:
    with pytest.raises(FeatureNotLicensed) as caught:
        license_.require("priority_support")
    assert caught.value.code == "FEATURE_NOT_LICENSED"
    assert caught.value.feature == "priority_support"


def test_a_feature_without_step_up_needs_no_id_token(license_: License) -> None:
    license_.require("sso")
    license_.require("audit_log", id_token_claims={})


# -- step-up ---------------------------------------------------------------------------


def step_up(license_: License, claims: dict[str, Any] | None, now: float = T0) -> StepUpRequired:
    with pytest.raises(StepUpRequired) as caught:
        license_.require("data_export", id_token_claims=claims, now=now)
    return caught.value


def test_no_id_token_means_a_challenge(license_: License) -> None:
    challenge = step_up(license_, None)
    assert challenge.acr_values == "mfa"
    assert challenge.max_age == 300
    assert challenge.status == 401
    assert challenge.code == "INSUFFICIENT_USER_AUTHENTICATION"
    assert challenge.www_authenticate == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="data_export requires a stronger authentication (mfa)", '
        'acr_values="mfa", max_age=300'
    )


@pytest.mark.parametrize(
    "claims",
    [
        {"acr": "mfa", "auth_time": T0 - 10},
        {"acr": "phr", "auth_time": T0 - 300},  # above mfa, exactly maxAge old
        {"acr": "2", "auth_time": T0},
        {"acr": "urn:okta:loa:2fa:any", "auth_time": T0 - 1},
        {"acr": "pwd", "amr": ["pwd", "otp"], "auth_time": T0 - 5},
        {"amr": ["hwk"], "auth_time": T0 - 5},
        {"acr": "0", "amr": ["mfa"], "auth_time": T0 - 5},
        {"acr": "mfa", "auth_time": T0 + 5},  # the issuer's clock a little ahead
    ],
)
def test_a_strong_recent_authentication_passes(license_: License, claims: dict[str, Any]) -> None:
    license_.require("data_export", id_token_claims=claims, now=T0)


@pytest.mark.parametrize(
    "claims",
    [
        {"acr": "pwd", "auth_time": T0},
        {"acr": "1", "auth_time": T0},
        {"acr": "urn:okta:loa:1fa:any", "auth_time": T0},
        {"acr": "unknown-level", "auth_time": T0},
        {"acr": 2, "auth_time": T0},  # malformed: not a string
        {"acr": ["mfa"], "auth_time": T0},
        {"amr": ["pwd", "sms_but_not_listed"], "auth_time": T0},
        {"amr": "mfa", "auth_time": T0},  # malformed: not a list
        {"auth_time": T0},
    ],
)
def test_a_weak_authentication_is_challenged_for_acr(
    license_: License, claims: dict[str, Any]
) -> None:
    challenge = step_up(license_, claims)
    assert "stronger" in challenge.detail
    assert challenge.acr_values == "mfa"


@pytest.mark.parametrize(
    "claims",
    [
        {"acr": "mfa"},  # missing auth_time
        {"acr": "mfa", "auth_time": T0 - 301},
        {"acr": "mfa", "auth_time": "yesterday"},
        {"acr": "mfa", "auth_time": True},
        {"acr": "mfa", "auth_time": T0 + 3600},  # in the future: fresh forever otherwise
        {"acr": "mfa", "auth_time": 2**40},
    ],
)
def test_an_old_or_undated_authentication_is_challenged_for_max_age(
    license_: License, claims: dict[str, Any]
) -> None:
    challenge = step_up(license_, claims)
    assert "within the last 300 seconds" in challenge.detail
    assert challenge.www_authenticate.endswith('acr_values="mfa", max_age=300')


def test_only_the_parameters_that_apply_are_in_the_header(clock: FakeClock) -> None:
    only_age = License(license_claims(stepUp={"data_export": {"maxAge": 60}}), clock=clock)
    challenge = step_up(only_age, {"acr": "pwd", "auth_time": T0 - 61})
    assert challenge.acr_values is None
    assert challenge.www_authenticate == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="data_export requires an authentication within the last 60 seconds", '
        "max_age=60"
    )
    only_acr = License(license_claims(stepUp={"data_export": {"acr": "phr"}}), clock=clock)
    challenge = step_up(only_acr, {"acr": "mfa"})
    assert challenge.max_age is None
    assert challenge.www_authenticate.endswith('acr_values="phr"')
    only_acr.require("data_export", id_token_claims={"acr": "phrh"})  # no auth_time needed


def test_an_acr_the_levels_do_not_know_needs_an_exact_match(clock: FakeClock) -> None:
    custom = License(license_claims(stepUp={"data_export": {"acr": "urn:acme:gold"}}), clock=clock)
    custom.require("data_export", id_token_claims={"acr": "urn:acme:gold"})
    step_up(custom, {"acr": "phrh"})


def test_acr_levels_are_configurable(clock: FakeClock) -> None:
    levels = AcrLevels({**DEFAULT_ACR_LEVELS, "urn:acme:gold": 3})
    held = License(
        license_claims(stepUp={"data_export": {"acr": "mfa"}}), clock=clock, acr_levels=levels
    )
    held.require("data_export", id_token_claims={"acr": "urn:acme:gold"})
    strict = AcrLevels({"mfa": 2}, mfa_amr=())
    held = License(license_claims(), clock=clock, acr_levels=strict)
    step_up(held, {"acr": "pwd", "amr": ["otp"], "auth_time": T0})


def test_the_default_levels_rank_as_documented() -> None:
    levels = AcrLevels()
    assert [levels.rank(v) for v in ("pwd", "mfa", "phr", "phrh", "3", "x", None)] == [
        1,
        2,
        3,
        4,
        3,
        None,
        None,
    ]
    assert levels.level_of({"amr": ["otp"]}) == 2
    assert levels.level_of({"acr": "phrh", "amr": ["otp"]}) == 4
    assert levels.level_of({"acr": "9999"}) == 0  # too long to be a level: malformed


def test_description_quotes_are_escaped_in_the_header() -> None:
    challenge = StepUpRequired('say "hi"', feature="f", acr_values="mfa", max_age=None)
    assert 'error_description="say \\"hi\\""' in challenge.www_authenticate


def test_region_is_the_one_the_identity_is_limited_to(clock: FakeClock) -> None:
    assert License(license_claims(), clock=clock).region is None
    assert License({**license_claims(), "region": "eu"}, clock=clock).region == "eu"
    assert License({**license_claims(), "region": 7}, clock=clock).region is None
