"""Self-service registration over real HTTP against ``python -m local`` and its moto
Cognito: register -> the invited user exists -> set a password -> sign in -> claim ->
the key validates; plus the page, form posts and a concurrent double submit."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.client import LocalServer, Reply

PRODUCT = "Rdn.Identity"
PASSWORD = "Correct-Horse-Battery-9!"


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def invited_user(server: LocalServer, email: str) -> dict[str, Any]:
    state = server.state()
    found = server.cognito().list_users(
        UserPoolId=state["user_pool_id"], Filter=f'email = "{email}"'
    )["Users"]
    assert len(found) == 1, found
    user: dict[str, Any] = found[0]
    return user


def set_password_and_sign_in(server: LocalServer, email: str) -> str:
    """What the customer does with the invitation: choose a password, sign in."""
    state = server.state()
    client = server.cognito()
    username = invited_user(server, email)["Username"]
    client.admin_set_user_password(
        UserPoolId=state["user_pool_id"], Username=username, Password=PASSWORD, Permanent=True
    )
    result = client.admin_initiate_auth(
        UserPoolId=state["user_pool_id"],
        ClientId=state["client_id"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    return str(result["AuthenticationResult"]["AccessToken"])


def register(server: LocalServer, email: str, tier: str = "free") -> Reply:
    return server.request(
        "POST",
        "/register",
        json_body={"email": email, "emailConfirmation": email, "productCode": PRODUCT, "tierCode": tier},
        headers={"Accept": "application/json"},
    )  # fmt: skip


def test_register_sign_in_claim_and_validate(local_server: LocalServer) -> None:
    email = unique_email("e2e")
    accepted = register(local_server, email, "pro")
    assert accepted.status == 202, accepted
    assert accepted.body["status"] == "pending" and accepted.body["claimId"].startswith("clm_")

    user = invited_user(local_server, email)
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    attributes = {a["Name"]: a["Value"] for a in user["Attributes"]}
    assert attributes["email_verified"] == "true"

    token = set_password_and_sign_in(local_server, email)
    claimed = local_server.request("POST", "/user/claim-license", token=token)
    assert claimed.status == 201, claimed
    key = claimed.body["keyToken"]

    validation = local_server.request("POST", "/license-keys/validate", json_body={"keyToken": key})
    assert validation.status == 200
    assert validation.body["valid"] is True and validation.body["code"] == "VALID"
    assert validation.body["claims"]["tier"] == "pro"
    assert validation.body["claims"]["aud"] == PRODUCT

    mine = local_server.request("GET", "/user/licenses", token=token)
    assert mine.status == 200
    assert [item["licenseId"] for item in mine.body["items"]] == [claimed.body["licenseId"]]

    again = local_server.request("POST", "/user/claim-license", token=token)
    assert again.status == 409 and again.body["code"] == "CLAIM_ALREADY_FULFILLED"


def test_a_concurrent_double_submit_issues_one_license(local_server: LocalServer) -> None:
    email = unique_email("race")
    assert register(local_server, email).status == 202
    token = set_password_and_sign_in(local_server, email)

    def submit(_: int) -> Reply:
        return local_server.request("POST", "/user/claim-license", token=token)

    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(submit, range(6)))
    statuses = sorted(reply.status for reply in replies)
    assert statuses.count(201) == 1, replies
    assert set(statuses) <= {201, 409}, replies
    assert {r.body["code"] for r in replies if r.status == 409} <= {
        "CLAIM_IN_PROGRESS",
        "CLAIM_ALREADY_FULFILLED",
    }
    mine = local_server.request("GET", "/user/licenses", token=token)
    assert len(mine.body["items"]) == 1


def test_an_existing_account_registers_and_claims_after_signing_in(
    local_server: LocalServer, user_token: str
) -> None:
    """The seeded user@example.com already has an account: no invitation, same answer."""
    before = invited_user(local_server, "user@example.com")
    accepted = register(local_server, "user@example.com")
    assert accepted.status == 202 and set(accepted.body) == {"claimId", "status", "expiresAt"}
    after = invited_user(local_server, "user@example.com")
    assert after["UserStatus"] == "CONFIRMED" and after["Attributes"] == before["Attributes"]
    claimed = local_server.request("POST", "/user/claim-license", token=user_token)
    assert claimed.status == 201, claimed


def test_the_page_and_a_form_post_without_javascript(local_server: LocalServer) -> None:
    page = local_server.request(
        "GET", f"/register?product={PRODUCT}&tier=pro", headers={"Accept": "text/html"}
    )
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "Rdn Identity" in page.body and "€29.00 per month" in page.body

    email = unique_email("form")
    form = urlencode(
        {"email": email, "emailConfirmation": email, "productCode": PRODUCT, "tierCode": "pro"}
    ).encode()
    posted = local_server.request(
        "POST",
        "/register",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )
    assert posted.status == 202 and "Check your email" in posted.body and email in posted.body
    invited_user(local_server, email)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "nope", "productCode": PRODUCT, "tierCode": "free"}, 422, "VALIDATION_FAILED"),
        ({"email": "a@example.com", "productCode": PRODUCT, "tierCode": "enterprise"}, 422, "TIER_NOT_SELF_SERVICE"),
        ({"email": "a@example.com", "productCode": "Nope", "tierCode": "free"}, 422, "PRODUCT_NOT_FOUND"),
    ],
)  # fmt: skip
def test_bad_registrations_are_problems(
    local_server: LocalServer, body: dict[str, str], status: int, code: str
) -> None:
    reply = local_server.request("POST", "/register", json_body=body)
    assert reply.status == status and reply.body["code"] == code
    assert reply.headers["content-type"] == "application/problem+json"


def test_claiming_without_a_registration_is_not_found(
    local_server: LocalServer,
) -> None:
    admin = local_server.request("POST", "/user/claim-license", token=local_server.admin_token)
    assert admin.status == 404 and admin.body["code"] == "NO_PENDING_CLAIM"
    anonymous = local_server.request("POST", "/user/claim-license")
    assert anonymous.status == 401
