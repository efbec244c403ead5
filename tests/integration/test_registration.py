"""Self-service registration through the handlers, on moto (DynamoDB and Cognito):
the page, registering (JSON and form posts), rate limits, claiming, the caller's licenses."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from licensing_core.domain.ids import set_clock
from licensing_core.http.pages import CONTENT_SECURITY_POLICY
from licensing_core.services import registration
from licensing_core.settings import reset_settings
from licensing_core.store import claims as claim_store
from licensing_core.store.models import (
    AuditRecord,
    CustomerRecord,
    LicenseRecord,
    PendingLicenseClaim,
    RateLimitRecord,
    UniqueRecord,
)

from tests.integration.conftest import PASSWORD, CognitoPool
from tests.support import Response, api_event, invoke, load_handler

Admin = Callable[..., Response]
PRODUCT = "Rdn.Identity"
ADMIN = "admin@example.com"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def pool(aws: CognitoPool, monkeypatch: pytest.MonkeyPatch) -> CognitoPool:
    """Registration configured against the test pool; the pool starts with no user but
    the admin."""
    for user in aws.client.list_users(UserPoolId=aws.pool_id)["Users"]:
        if user["Username"] != ADMIN:
            aws.client.admin_delete_user(UserPoolId=aws.pool_id, Username=user["Username"])
            aws.tokens.pop(user["Username"], None)
    monkeypatch.setenv("LICENSING_COGNITO_USER_POOL_ID", aws.pool_id)
    reset_settings()
    return aws


@dataclass(frozen=True)
class Catalog:
    pool: CognitoPool
    product: str
    tiers: dict[str, str]


@pytest.fixture
def catalog(pool: CognitoPool, admin: Admin, product: str, tiers: dict[str, str]) -> Catalog:
    """The conftest catalog with free and pro open to self-service (enterprise is not)."""
    for code in ("free", "pro"):
        patched = admin("PATCH", f"/products/{product}/tiers/{tiers[code]}", {"selfService": True})
        assert patched.status == 200, patched.text
    return Catalog(pool, product, tiers)


@pytest.fixture
def clock() -> Iterator[Callable[[timedelta], None]]:
    """Move the service's clock forward."""
    offset = timedelta()

    def advance(by: timedelta) -> None:
        nonlocal offset
        offset += by

    set_clock(lambda: datetime.now(UTC) + offset)
    yield advance
    set_clock(None)


def register(email: str, tier: str = "free", *, product: str = PRODUCT, **extra: Any) -> Response:
    return invoke(
        "POST",
        "/register",
        body={"email": email, "productCode": product, "tierCode": tier, **extra},
    )


def post_form(fields: dict[str, str], *, accept: str = BROWSER_ACCEPT) -> Response:
    return invoke(
        "POST",
        "/register",
        body=urlencode(fields),
        headers={"content-type": "application/x-www-form-urlencoded", "accept": accept},
    )


def page(query: dict[str, str]) -> Response:
    return invoke("GET", "/register", query=query, headers={"accept": BROWSER_ACCEPT})


def sign_in(pool: CognitoPool, email: str) -> str:
    """What the invited customer does: set a password at Cognito, sign in."""
    found = pool.client.list_users(UserPoolId=pool.pool_id, Filter=f'email = "{email}"')["Users"]
    assert len(found) == 1, found
    username = found[0]["Username"]
    pool.client.admin_set_user_password(
        UserPoolId=pool.pool_id, Username=username, Password=PASSWORD, Permanent=True
    )
    result = pool.client.admin_initiate_auth(
        UserPoolId=pool.pool_id,
        ClientId=pool.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    return str(result["AuthenticationResult"]["AccessToken"])


def claim(token: str | None, body: dict[str, Any] | None = None) -> Response:
    return invoke("POST", "/user/claim-license", body=body, token=token)


def validate(key: str) -> dict[str, Any]:
    result: dict[str, Any] = invoke("POST", "/license-keys/validate", body={"keyToken": key}).json
    return result


def users(pool: CognitoPool) -> list[dict[str, Any]]:
    """The pool's users but the admin (who calls the admin API in these tests)."""
    found: list[dict[str, Any]] = pool.client.list_users(UserPoolId=pool.pool_id)["Users"]
    return [user for user in found if user["Username"] != ADMIN]


def attributes(user: dict[str, Any]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user["Attributes"]}


def written() -> dict[str, int]:
    """How many records the registration tables hold."""
    return {
        "claims": PendingLicenseClaim.count(),
        "rate_limits": RateLimitRecord.count(),
        "customers": CustomerRecord.count(),
        "licenses": LicenseRecord.count(),
    }


def problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json
    assert body["code"] == code, body
    return body


def html_page(response: Response, status: int) -> str:
    assert response.status == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    return response.text


# The page


def test_the_page_shows_the_offer_accessibly_under_a_strict_policy(
    catalog: Catalog,
) -> None:
    text = html_page(page({"product": "rdn.identity", "tier": "PRO", "utm_source": "x"}), 200)
    assert '<html lang="en">' in text
    assert "Rdn" in text and "Pro" in text
    assert "€29.00 per month" in text and "€290.00 per year" in text
    assert re.search(r'<label for="email">', text) and re.search(
        r'<label for="emailConfirmation">', text
    )
    assert text.count('autocomplete="email"') == 2
    assert 'aria-live="polite"' in text and 'role="status"' in text
    assert '<form id="register-form" method="post" action="register"' in text
    assert '<input type="hidden" name="productCode" value="Rdn.Identity">' in text
    assert '<input type="hidden" name="tierCode" value="pro">' in text
    # Passkeys (pro), SSO (inherited from free), no enterprise features.
    assert "<li>Passkeys</li>" in text and "<li>Sso</li>" in text and "Audit_Log" not in text
    policy = CONTENT_SECURITY_POLICY
    assert policy.startswith("default-src 'none';") and "form-action 'self'" in policy
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy


def test_free_tiers_say_free(catalog: Catalog) -> None:
    assert "Free" in html_page(page({"product": PRODUCT, "tier": "free"}), 200)


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ({"product": "Nope", "tier": "free"}, 404, "No product"),
        ({"product": PRODUCT, "tier": "gold"}, 404, "No tier"),
        ({"product": PRODUCT, "tier": "enterprise"}, 422, "cannot be registered for online"),
        ({"product": PRODUCT}, 422, "must name a product and a tier"),
        ({"product": "<script>", "tier": "free"}, 422, "must name a product and a tier"),
    ],
)
def test_a_page_for_nothing_to_register_explains_why_without_a_form(
    catalog: Catalog, query: dict[str, str], status: int, says: str
) -> None:
    text = html_page(page(query), status)
    assert says in text
    assert "<form" not in text and "<script>" not in text.split("<script>", 1)[0]
    assert 'class="error"' in text


def test_catalog_values_are_escaped_on_the_page(
    pool: CognitoPool, admin: Admin, product: str
) -> None:
    hostile = admin(
        "POST",
        "/products",
        {"code": "Evil", "name": "<script>alert(1)</script>", "description": '"><img src=x>'},
    ).json["productId"]
    admin("POST", f"/products/{hostile}/features", {"key": "x", "name": "<b onclick=alert(2)>"})
    created = admin(
        "POST",
        f"/products/{hostile}/tiers",
        {
            "code": "t",
            "name": "<img src=x onerror=alert(3)>",
            "monthlyPrice": 100,
            "annualPrice": 1000,
            "currency": "USD",
            "billingPeriods": ["monthly"],
            "maxUsers": 1,
            "features": ["x"],
            "selfService": True,
        },
    )
    assert created.status == 201, created.text
    text = html_page(page({"product": "Evil", "tier": "t"}), 200)
    for raw in ("<script>alert(1)", "<img src=x", "<b onclick", '"><img'):
        assert raw not in text
    assert html.escape("<script>alert(1)</script>") in text
    assert "$1.00 per month" in text


# Registering


def test_registering_invites_the_user_and_stores_a_pending_claim(catalog: Catalog) -> None:
    before = datetime.now(UTC)
    response = register("Ada@Example.com", "pro", emailConfirmation="ada@example.com")
    assert response.status == 202, response.text
    body = response.json
    assert set(body) == {"claimId", "status", "expiresAt"} and body["status"] == "pending"
    expires = datetime.fromisoformat(body["expiresAt"])
    assert before + timedelta(days=7) - timedelta(seconds=2) <= expires
    assert expires <= datetime.now(UTC) + timedelta(days=7)

    (user,) = users(catalog.pool)
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert attributes(user)["email"] == "ada@example.com"
    assert attributes(user)["email_verified"] == "true"

    stored = claim_store.get_claim("ada@example.com", catalog.product)
    assert stored is not None and stored.status == "pending"
    assert stored.claim_id == body["claimId"] and stored.tier_id == catalog.tiers["pro"]
    assert stored.subject == attributes(user)["sub"]
    assert stored.delete_after is not None and stored.delete_after > stored.expires_at
    assert [r.action for r in AuditRecord.query(stored.claim_id)] == ["claim.created"]


def test_an_existing_account_is_not_created_again_and_the_answer_is_the_same(
    catalog: Catalog, pool: CognitoPool
) -> None:
    pool.user_token("known@example.com")  # signed up before (CONFIRMED)
    pool.client.admin_update_user_attributes(
        UserPoolId=pool.pool_id,
        Username="known@example.com",
        UserAttributes=[{"Name": "email", "Value": "known@example.com"}],
    )
    (existing,) = users(pool)
    new = register("new@example.com")
    known = register("known@example.com")
    assert new.status == known.status == 202
    assert set(new.json) == set(known.json) and new.headers == known.headers
    after = {u["Username"]: u for u in users(pool)}
    assert after["known@example.com"]["UserStatus"] == "CONFIRMED"
    assert attributes(after["known@example.com"])["sub"] == attributes(existing)["sub"]
    stored = claim_store.get_claim("known@example.com", catalog.product)
    assert stored is not None and stored.subject == attributes(existing)["sub"]


def test_registering_again_replaces_the_pending_claim(catalog: Catalog) -> None:
    first = register("ada@example.com", "free").json
    second = register("ada@example.com", "pro").json
    assert first["claimId"] != second["claimId"]
    (only,) = claim_store.claims_of("ada@example.com")
    assert only.claim_id == second["claimId"] and only.tier_code == "pro"
    assert len(users(catalog.pool)) == 1


def test_a_form_post_gets_the_page_in_its_success_state(catalog: Catalog) -> None:
    response = post_form(
        {
            "email": "grace@example.com",
            "emailConfirmation": "grace@example.com",
            "productCode": PRODUCT,
            "tierCode": "free",
        }
    )
    text = html_page(response, 202)
    assert "Check your email" in text and "grace@example.com" in text
    assert 'class="ok"' in text and "<form" not in text
    assert claim_store.get_claim("grace@example.com", catalog.product) is not None


@pytest.mark.parametrize(("email", "status"), [("b64@example.com", 202), ("b64@nowhere", 422)])
def test_a_base64_form_post_as_api_gateway_may_send_it(
    catalog: Catalog, email: str, status: int
) -> None:
    form = urlencode(
        {"email": email, "emailConfirmation": email, "productCode": PRODUCT, "tierCode": "pro"}
    )
    route, event = api_event(
        "POST",
        "/register",
        body="",
        headers={"content-type": "application/x-www-form-urlencoded", "accept": BROWSER_ACCEPT},
    )
    event.update(body=base64.b64encode(form.encode()).decode(), isBase64Encoded=True)
    result = load_handler(route.function).handler(event, None)
    text = html_page(Response(result["statusCode"], result["headers"], result["body"]), status)
    assert "Rdn" in text and "Pro" in text and email in text  # the offer and the email shown


def test_a_form_post_asking_for_json_gets_json(catalog: Catalog) -> None:
    response = post_form(
        {"email": "g@example.com", "productCode": PRODUCT, "tierCode": "free"},
        accept="application/json",
    )
    assert response.status == 202 and response.json["status"] == "pending"


def test_a_bad_form_post_gets_the_page_with_the_field_marked_and_escaped(
    catalog: Catalog,
) -> None:
    hostile = '"><script>alert(1)</script>@example.com'
    response = post_form(
        {
            "email": hostile,
            "emailConfirmation": hostile,
            "productCode": PRODUCT,
            "tierCode": "free",
        }
    )
    text = html_page(response, 422)
    assert "<script>alert(1)" not in text
    assert f'value="{html.escape(hostile, quote=True)}"' in text
    assert re.search(r'id="email"[^>]*aria-invalid="true"', text, re.S)
    assert "Not a valid email address" in text and "Please correct the highlighted field" in text
    assert '<form id="register-form"' in text  # to correct and send again
    assert written()["claims"] == 0 and users(catalog.pool) == []


def test_mismatched_confirmation_is_refused(catalog: Catalog) -> None:
    body = problem(
        register("a@example.com", emailConfirmation="b@example.com"), 422, "VALIDATION_FAILED"
    )
    assert body["errors"][0]["path"] == "body.emailConfirmation"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "not-an-email", "productCode": PRODUCT, "tierCode": "free"}, 422, "VALIDATION_FAILED"),
        ({"email": "a b@example.com", "productCode": PRODUCT, "tierCode": "free"}, 422, "VALIDATION_FAILED"),
        ({"email": "<x>@example.com", "productCode": PRODUCT, "tierCode": "free"}, 422, "VALIDATION_FAILED"),
        ({"email": "a@example.com", "productCode": "Nope", "tierCode": "free"}, 422, "PRODUCT_NOT_FOUND"),
        ({"email": "a@example.com", "productCode": PRODUCT, "tierCode": "gold"}, 422, "TIER_NOT_FOUND"),
        ({"email": "a@example.com", "productCode": PRODUCT, "tierCode": "enterprise"}, 422, "TIER_NOT_SELF_SERVICE"),
        ({"email": "a@example.com", "productCode": "<script>", "tierCode": "free"}, 422, "VALIDATION_FAILED"),
        ({"email": "a@example.com", "productCode": PRODUCT, "tierCode": "free", "status": "fulfilled"}, 422, "VALIDATION_FAILED"),
        ({"email": "a@example.com", "productCode": PRODUCT}, 422, "VALIDATION_FAILED"),
    ],
)  # fmt: skip
def test_bad_registrations_are_refused_and_nothing_is_written(
    catalog: Catalog, body: dict[str, Any], status: int, code: str
) -> None:
    before = written()
    problem(invoke("POST", "/register", body=body), status, code)
    assert written() == before
    assert users(catalog.pool) == []


def test_bad_form_bodies_are_refused(catalog: Catalog) -> None:
    repeated = "email=a%40example.com&email=b%40example.com&productCode=Rdn.Identity&tierCode=free"
    response = invoke(
        "POST",
        "/register",
        body=repeated,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    problem(response, 400, "MALFORMED_FORM")
    response = invoke(
        "POST",
        "/register",
        body="email=a%40example.com",
        headers={"content-type": "text/plain"},
    )
    problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert written()["claims"] == 0


def test_registration_without_an_identity_provider_is_unavailable(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LICENSING_COGNITO_USER_POOL_ID")
    reset_settings()
    problem(register("a@example.com"), 503, "REGISTRATION_UNAVAILABLE")
    assert written()["claims"] == 0


# Rate limits


def test_an_email_is_limited_per_window_and_no_more_invitations_go_out(
    catalog: Catalog,
) -> None:
    for _ in range(3):
        assert register("flood@example.com").status == 202
    refused = register("flood@example.com")
    body = problem(refused, 429, "RATE_LIMITED")
    retry_after = int(refused.headers["retry-after"])
    assert 0 < retry_after <= 3600 and body["retryAfterSeconds"] == retry_after
    assert len(users(catalog.pool)) == 1
    assert register("other@example.com").status == 202  # others are not affected


def test_an_ip_is_limited_per_window(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, clock: Callable[[timedelta], None]
) -> None:
    monkeypatch.setenv("LICENSING_REGISTER_LIMIT_PER_IP", "3")
    reset_settings()
    for n in range(3):
        assert register(f"user{n}@example.com").status == 202
    problem(register("user3@example.com"), 429, "RATE_LIMITED")
    assert len(users(catalog.pool)) == 3
    assert claim_store.get_claim("user3@example.com", catalog.product) is None
    clock(timedelta(hours=1))  # the next window
    assert register("user3@example.com").status == 202


def test_a_rate_limited_form_post_gets_the_page_with_retry_after(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LICENSING_REGISTER_LIMIT_PER_EMAIL", "1")
    reset_settings()
    fields = {"email": "f@example.com", "productCode": PRODUCT, "tierCode": "free"}
    assert post_form(fields).status == 202
    refused = post_form(fields)
    text = html_page(refused, 429)
    assert int(refused.headers["retry-after"]) > 0
    assert "Too many attempts; try again in" in text and 'value="f@example.com"' in text


def test_rate_limit_counters_store_no_email_and_expire(catalog: Catalog) -> None:
    register("private@example.com")
    buckets = list(RateLimitRecord.scan())
    assert len(buckets) == 2
    for bucket in buckets:
        assert "private" not in bucket.bucket and "198.51.100.7" not in bucket.bucket
        assert bucket.expires_ttl is not None and int(bucket.hits) == 1


# Claiming


def test_register_sign_in_claim_and_the_key_validates(catalog: Catalog) -> None:
    pool = catalog.pool
    register("ada@example.com", "free")
    token = sign_in(pool, "ada@example.com")
    response = claim(token)
    assert response.status == 201, response.text
    key = response.json
    assert set(key) == {"licenseId", "keyToken", "expiresAt"}
    result = validate(key["keyToken"])
    assert result["valid"] and result["code"] == "VALID"
    assert result["claims"]["tier"] == "free" and result["claims"]["aud"] == PRODUCT
    # A free tier is perpetual (100 years).
    assert datetime.fromisoformat(key["expiresAt"]) > datetime.now(UTC) + timedelta(days=36000)

    stored = claim_store.get_claim("ada@example.com", catalog.product)
    assert stored is not None and stored.status == "fulfilled"
    assert stored.license_id == key["licenseId"]
    (customer,) = CustomerRecord.scan()
    assert customer.email == "ada@example.com" and customer.subject == stored.subject
    assert customer.metadata == {"source": "self-service"}
    license_record = LicenseRecord.get(key["licenseId"])
    assert license_record.customer_id == customer.customer_id
    assert [r.action for r in AuditRecord.query(stored.claim_id)] == [
        "claim.created",
        "claim.fulfilled",
    ]


def test_a_priced_tier_is_licensed_for_the_configured_days(catalog: Catalog) -> None:
    register("pro@example.com", "pro")
    key = claim(sign_in(catalog.pool, "pro@example.com")).json
    expires = datetime.fromisoformat(key["expiresAt"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    assert validate(key["keyToken"])["claims"]["tier"] == "pro"


def test_a_double_submit_issues_one_license(catalog: Catalog) -> None:
    register("ada@example.com")
    token = sign_in(catalog.pool, "ada@example.com")
    first = claim(token)
    assert first.status == 201
    again = problem(claim(token), 409, "CLAIM_ALREADY_FULFILLED")
    assert again["licenseId"] == first.json["licenseId"]
    assert LicenseRecord.count() == 1


def test_claiming_while_another_request_holds_the_claim_is_a_conflict(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    register("ada@example.com")
    token = sign_in(catalog.pool, "ada@example.com")
    inner: list[Response] = []
    issue = registration.licenses.issue

    def issue_while_racing(*args: Any, **kwargs: Any) -> Any:
        inner.append(claim(token))  # a second submit arrives while the first issues
        return issue(*args, **kwargs)

    monkeypatch.setattr(registration.licenses, "issue", issue_while_racing)
    assert claim(token).status == 201
    problem(inner[0], 409, "CLAIM_IN_PROGRESS")
    assert LicenseRecord.count() == 1


def test_someone_elses_token_finds_no_claim_and_changes_nothing(
    catalog: Catalog,
) -> None:
    pool = catalog.pool
    register("ada@example.com")
    register("mallory@example.com")  # registered for nothing else: gets her own claim only
    mallory = sign_in(pool, "mallory@example.com")
    assert claim(mallory, {"productCode": "Other.Product"}).status == 404
    stranger = pool.user_token("stranger")  # an account without any registration
    pool.client.admin_update_user_attributes(
        UserPoolId=pool.pool_id,
        Username="stranger",
        UserAttributes=[
            {"Name": "email", "Value": "stranger@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    before = written()
    problem(claim(stranger), 404, "NO_PENDING_CLAIM")
    assert written() == before
    ada = claim_store.get_claim("ada@example.com", catalog.product)
    assert ada is not None and ada.status == "pending"


def test_a_claim_made_for_another_account_with_the_same_email_is_refused(
    catalog: Catalog,
) -> None:
    pool = catalog.pool
    register("ada@example.com")
    (user,) = users(pool)
    pool.client.admin_delete_user(UserPoolId=pool.pool_id, Username=user["Username"])
    pool.client.admin_create_user(
        UserPoolId=pool.pool_id,
        Username="ada@example.com",
        UserAttributes=[
            {"Name": "email", "Value": "ada@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )
    problem(claim(sign_in(pool, "ada@example.com")), 403, "IDENTITY_MISMATCH")
    assert LicenseRecord.count() == 0


def test_an_unverified_email_cannot_claim(catalog: Catalog) -> None:
    pool = catalog.pool
    register("ada@example.com")
    (user,) = users(pool)
    pool.client.admin_update_user_attributes(
        UserPoolId=pool.pool_id,
        Username=user["Username"],
        UserAttributes=[{"Name": "email_verified", "Value": "false"}],
    )
    before = written()
    problem(claim(sign_in(pool, "ada@example.com")), 403, "EMAIL_NOT_VERIFIED")
    assert written() == before


def test_claiming_needs_a_valid_bearer(catalog: Catalog) -> None:
    problem(claim(None), 401, "MISSING_TOKEN")
    problem(claim("not.a.token"), 401, "INVALID_TOKEN")


def test_a_deactivated_identity_cannot_claim_and_the_claim_stays_pending(
    catalog: Catalog, admin: Admin
) -> None:
    created = admin("POST", "/customers", {"email": "ada@example.com", "name": "Ada"}).json
    deactivated = admin("POST", f"/customers/{created['customerId']}/deactivate", {})
    assert deactivated.status == 200, deactivated.text
    register("ada@example.com")
    token = sign_in(catalog.pool, "ada@example.com")
    problem(claim(token), 409, "IDENTITY_DEACTIVATED")
    stored = claim_store.get_claim("ada@example.com", catalog.product)
    assert stored is not None and stored.status == "pending" and stored.attempt is None
    actions = [r.action for r in AuditRecord.query(stored.claim_id)]
    assert actions == ["claim.created", "claim.released"]
    assert LicenseRecord.count() == 0


def test_an_identity_created_by_an_admin_is_bound_to_the_account(
    catalog: Catalog, admin: Admin
) -> None:
    created = admin("POST", "/customers", {"email": "ada@example.com", "name": "Ada"}).json
    register("ada@example.com")
    key = claim(sign_in(catalog.pool, "ada@example.com")).json
    assert LicenseRecord.get(key["licenseId"]).customer_id == created["customerId"]
    bound = CustomerRecord.get(created["customerId"])
    assert bound.subject is not None
    assert UniqueRecord.get(f"SUBJECT#{bound.subject}").owner == created["customerId"]


def test_a_claim_picks_the_product_asked_for(catalog: Catalog, admin: Admin) -> None:
    other = admin("POST", "/products", {"code": "Other", "name": "Other"}).json["productId"]
    admin(
        "POST",
        f"/products/{other}/tiers",
        {
            "code": "basic",
            "name": "Basic",
            "monthlyPrice": 0,
            "annualPrice": 0,
            "currency": "EUR",
            "billingPeriods": ["monthly"],
            "maxUsers": 1,
            "selfService": True,
        },
    )
    register("ada@example.com", product=PRODUCT)
    register("ada@example.com", "basic", product="Other")
    token = sign_in(catalog.pool, "ada@example.com")
    first = claim(token, {"productCode": "rdn.identity"}).json
    assert validate(first["keyToken"])["claims"]["aud"] == PRODUCT
    second = claim(token).json  # the one left
    assert validate(second["keyToken"])["claims"]["aud"] == "Other"
    problem(claim(token), 409, "CLAIM_ALREADY_FULFILLED")


def test_a_claim_after_expiry_is_gone(catalog: Catalog, clock: Callable[[timedelta], None]) -> None:
    register("ada@example.com")
    token = sign_in(catalog.pool, "ada@example.com")
    clock(timedelta(days=7, seconds=1))
    before = written()
    problem(claim(token), 410, "CLAIM_EXPIRED")
    assert written() == before
    stored = claim_store.get_claim("ada@example.com", catalog.product)
    assert stored is not None and stored.status == "pending"  # the job flips it


def test_a_request_that_died_after_issuing_is_recovered_without_a_second_license(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, clock: Callable[[timedelta], None]
) -> None:
    register("ada@example.com")
    token = sign_in(catalog.pool, "ada@example.com")
    fulfil = claim_store.fulfil

    def die_before_fulfilling(*_: Any, **__: Any) -> None:
        raise RuntimeError("the function timed out")

    monkeypatch.setattr(claim_store, "fulfil", die_before_fulfilling)
    crashed = claim(token)
    assert crashed.status == 500
    (lost,) = LicenseRecord.scan()
    monkeypatch.setattr(claim_store, "fulfil", fulfil)

    problem(claim(token), 409, "CLAIM_IN_PROGRESS")  # the lease still holds
    clock(timedelta(seconds=registration.CLAIM_LEASE_SECONDS + 1))
    recovered = claim(token)
    assert recovered.status == 201, recovered.text
    assert recovered.json["licenseId"] == lost.license_id
    assert LicenseRecord.count() == 1
    assert validate(recovered.json["keyToken"])["code"] == "VALID"
    stored = claim_store.get_claim("ada@example.com", catalog.product)
    assert stored is not None and stored.status == "fulfilled"
    assert stored.license_id == lost.license_id


# The caller's licenses


def test_users_see_only_their_own_licenses(catalog: Catalog, admin: Admin) -> None:
    pool = catalog.pool
    someone = admin("POST", "/customers", {"email": "bob@example.com", "name": "Bob"}).json
    issued = admin(
        "POST",
        "/license-keys",
        {
            "productId": catalog.product,
            "tierId": catalog.tiers["free"],
            "customerId": someone["customerId"],
            "perpetual": True,
        },
    )
    assert issued.status == 201
    register("ada@example.com")
    token = sign_in(pool, "ada@example.com")
    mine = invoke("GET", "/user/licenses", token=token)
    assert mine.status == 200 and mine.json["items"] == []
    garbage = invoke("GET", "/user/licenses", token=token, query={"cursor": "not-a-cursor"})
    problem(garbage, 400, "INVALID_CURSOR")  # as it will be once the caller has licenses
    key = claim(token).json
    mine = invoke("GET", "/user/licenses", token=token, query={"limit": "10"})
    assert [item["licenseId"] for item in mine.json["items"]] == [key["licenseId"]]
    garbage = invoke("GET", "/user/licenses", token=token, query={"cursor": "not-a-cursor"})
    problem(garbage, 400, "INVALID_CURSOR")
    problem(invoke("GET", "/user/licenses"), 401, "MISSING_TOKEN")
