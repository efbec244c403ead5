"""Step-up policy (RFC 9470): levels, freshness, the exact challenge, the app-side helper."""

from __future__ import annotations

import json
from typing import Any

import pytest
from licensing_core.domain.errors import DomainError, LicenseExpired, StepUpRequired
from licensing_core.http.problems import from_error
from licensing_core.identity.stepup import (
    Policy,
    Requirement,
    enforce,
    get_policy,
    require_feature,
)

NOW = 1_800_000_000
LEVELS = {"acrLevels": {"pwd": 1, "mfa": 2, "phr": 3}, "amrLevels": {"mfa": 2, "hwk": 3}}


def policy() -> Policy:
    return Policy.parse(LEVELS)


def check(rule: Requirement, **claims: Any) -> None:
    policy().check(rule, claims, NOW, "this action")


def challenge_of(rule: Requirement, **claims: Any) -> StepUpRequired:
    with pytest.raises(StepUpRequired) as raised:
        check(rule, **claims)
    return raised.value


MFA_5_MIN = Requirement(("mfa",), 300)


def test_header_is_exactly_rfc_9470() -> None:
    raised = challenge_of(MFA_5_MIN, acr="pwd", auth_time=NOW)
    assert raised.challenge == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="this action needs a stronger authentication (mfa)", '
        'acr_values="mfa", max_age=300'
    )


def test_several_acr_values_are_one_quoted_space_separated_list() -> None:
    raised = challenge_of(Requirement(("phr", "urn:okta:loa:2fa:any"), None), acr="mfa")
    assert raised.challenge == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="this action needs a stronger authentication (phr or '
        'urn:okta:loa:2fa:any)", acr_values="phr urn:okta:loa:2fa:any"'
    )  # no max_age: it does not apply


def test_only_max_age_when_only_freshness_applies() -> None:
    raised = challenge_of(Requirement((), 60), auth_time=NOW - 61)
    assert raised.challenge == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="this action needs an authentication within the last 60 seconds", '
        "max_age=60"
    )


def test_max_age_boundaries() -> None:
    check(MFA_5_MIN, acr="mfa", auth_time=NOW - 299)
    check(MFA_5_MIN, acr="mfa", auth_time=NOW - 300)
    challenge_of(MFA_5_MIN, acr="mfa", auth_time=NOW - 301)


def test_high_acr_with_stale_or_missing_auth_time_is_challenged() -> None:
    challenge_of(MFA_5_MIN, acr="phr", auth_time=NOW - 3600)
    challenge_of(MFA_5_MIN, acr="phr")
    challenge_of(MFA_5_MIN, acr="phr", auth_time="recently")
    # a refreshed token (new iat) still carries the old auth_time: still challenged
    challenge_of(MFA_5_MIN, acr="mfa", iat=NOW, auth_time=NOW - 3600)


def test_an_auth_time_in_the_future_is_never_fresh() -> None:
    """Beyond the clock leeway, a future ``auth_time`` would count as recent forever."""
    check(MFA_5_MIN, acr="mfa", auth_time=NOW + 30)  # the issuer's clock a little ahead
    for ahead in (31, 3600, 10**9):
        raised = challenge_of(MFA_5_MIN, acr="mfa", auth_time=NOW + ahead)
        assert raised.max_age == 300
    with pytest.raises(StepUpRequired):
        policy().check(MFA_5_MIN, {"acr": "mfa", "auth_time": NOW + 5}, NOW, "x", leeway=0)


@pytest.mark.parametrize("acr", [None, "", "bogus", 42, ["mfa"], "MFA"])
def test_unknown_or_malformed_acr_is_the_lowest_level(acr: Any) -> None:
    assert policy().level({"acr": acr}) == 0
    challenge_of(MFA_5_MIN, acr=acr, auth_time=NOW)


def test_amr_lifts_the_level() -> None:
    check(MFA_5_MIN, amr=["pwd", "mfa"], auth_time=NOW)
    assert policy().level({"acr": "pwd", "amr": ["hwk"]}) == 3
    assert policy().level({"amr": "mfa"}) == 0  # not a list: ignored


def test_a_typo_in_the_policy_never_lowers_the_bar() -> None:
    challenge_of(Requirement(("mfaa",), None), acr="phr")


def test_problem_response_carries_the_challenge_and_the_requirement() -> None:
    response = from_error(
        challenge_of(MFA_5_MIN, acr="pwd", auth_time=NOW), request_id="r1", base_url=""
    )
    assert response["statusCode"] == 401
    assert response["headers"]["www-authenticate"].startswith(
        'Bearer error="insufficient_user_authentication"'
    )
    body = json.loads(response["body"])
    assert (body["code"], body["acrValues"], body["maxAge"]) == ("STEP_UP_REQUIRED", ["mfa"], 300)


def test_packaged_policy_guards_the_high_value_actions() -> None:
    actions = get_policy().actions
    for action in (
        "license.revoke",
        "license.regenerate",
        "license.renew",
        "license.reinstate",
        "identity.deactivate",
        "identity.reactivate",
        "tier.update",
    ):
        assert actions[action].acr_values == ("mfa",)
    enforce("license.issue", {}, NOW)  # only for sensitive tiers
    with pytest.raises(StepUpRequired):
        enforce("license.issue", {}, NOW, sensitive_tier=True)
    enforce("no.such.action", {}, NOW)


def test_policy_override_from_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    from licensing_core.settings import reset_settings

    monkeypatch.setenv(
        "LICENSING_STEP_UP_POLICY",
        json.dumps({**LEVELS, "actions": {"license.revoke": {"acr": "phr", "maxAge": 60}}}),
    )
    reset_settings()
    assert get_policy().actions["license.revoke"] == Requirement(("phr",), 60)


LICENSE = {
    "exp": NOW + 3600,
    "features": ["sso", "data_export"],
    "stepUp": {"data_export": {"acr": "mfa", "maxAge": 300}},
}


def test_require_feature_for_applications() -> None:
    require_feature(LICENSE, "sso", {}, NOW, policy=policy())
    require_feature(
        LICENSE, "data_export", {"acr": "mfa", "auth_time": NOW - 10}, NOW, policy=policy()
    )
    with pytest.raises(StepUpRequired) as raised:
        require_feature(
            LICENSE, "data_export", {"acr": "pwd", "auth_time": NOW}, NOW, policy=policy()
        )
    assert raised.value.acr_values == ("mfa",) and raised.value.max_age == 300
    assert 'acr_values="mfa", max_age=300' in raised.value.challenge
    with pytest.raises(DomainError) as missing:
        require_feature(LICENSE, "teleport", {}, NOW, policy=policy())
    assert missing.value.code == "FEATURE_NOT_LICENSED"


def test_a_license_expiring_mid_action_is_detected() -> None:
    require_feature(LICENSE, "sso", {}, NOW + 3600, policy=policy())
    with pytest.raises(LicenseExpired):
        require_feature(LICENSE, "sso", {}, NOW + 3601, policy=policy())
