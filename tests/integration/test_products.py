"""Products through the real handlers: admin auth at the door, invariants in the store."""

from __future__ import annotations

import time

import pytest
from licensing_core.store.models import ProductRecord, UniqueRecord

from local.aws import moto_signing_key
from tests.integration.conftest import CognitoPool
from tests.support import TokenMinter, invoke, unsigned_token

NEW = {"code": "Acme.Editor", "name": "Acme Editor", "description": "A text editor"}


def stored() -> tuple[int, int]:
    return ProductRecord.count(), UniqueRecord.count()


def test_admin_creates_lists_and_reads_a_product(admin_token: str) -> None:
    created = invoke("POST", "/products", body=NEW, token=admin_token)
    assert created.status == 201, created.text
    product = created.json
    assert product["productId"].startswith("prd_") and product["code"] == "Acme.Editor"
    listed = invoke("GET", "/products", token=admin_token).json
    assert [p["productId"] for p in listed["items"]] == [product["productId"]]
    read = invoke("GET", f"/products/{product['productId']}", token=admin_token)
    assert read.status == 200 and read.json == product


def test_pages_follow_the_cursor(admin_token: str) -> None:
    for n in range(5):
        assert (
            invoke(
                "POST", "/products", body={"code": f"p{n}", "name": "P"}, token=admin_token
            ).status
            == 201
        )
    seen: list[str] = []
    query = {"limit": "2"}
    while True:
        page = invoke("GET", "/products", token=admin_token, query=query).json
        assert len(page["items"]) <= 2
        seen += [p["code"] for p in page["items"]]
        if not page["nextCursor"]:
            break
        query = {"limit": "2", "cursor": page["nextCursor"]}
    assert sorted(seen) == [f"p{n}" for n in range(5)]


def test_a_forged_cursor_is_a_400(admin_token: str) -> None:
    response = invoke(
        "GET", "/products", token=admin_token, query={"cursor": "eyJ4Ijp7IlMiOiIxIn19"}
    )
    assert (response.status, response.json["code"]) == (400, "INVALID_CURSOR")


def test_duplicate_code_is_a_conflict_and_writes_nothing(admin_token: str) -> None:
    assert invoke("POST", "/products", body=NEW, token=admin_token).status == 201
    before = stored()
    again = invoke("POST", "/products", body={**NEW, "code": "acme.EDITOR"}, token=admin_token)
    assert (again.status, again.json["code"]) == (409, "PRODUCT_CODE_TAKEN")
    assert stored() == before


def test_unknown_product_is_404(admin_token: str) -> None:
    response = invoke("GET", "/products/prd_missing", token=admin_token)
    assert (response.status, response.json["code"]) == (404, "PRODUCT_NOT_FOUND")


def moto_minter(aws: CognitoPool) -> TokenMinter:
    """Mints with moto's own Cognito key, so only the claims we change are wrong."""
    return TokenMinter(
        issuer=f"https://cognito-idp.us-east-1.amazonaws.com/{aws.pool_id}",
        client_id=aws.client_id,
        key=moto_signing_key(),
    )


@pytest.mark.parametrize(
    ("make_token", "status", "code", "detail"),
    [
        (lambda aws: None, 401, "MISSING_TOKEN", "required"),
        (lambda aws: "", 401, "INVALID_TOKEN", "Bearer <token>"),
        (lambda aws: "garbage", 401, "INVALID_TOKEN", "segments"),
        (
            lambda aws: unsigned_token(
                iss="x", sub="x", exp=2**40, **{"cognito:groups": ["license-admins"]}
            ),
            401,
            "INVALID_TOKEN",
            "algorithm",
        ),
        (
            lambda aws: moto_minter(aws).mint(exp=int(time.time()) - 3600),
            401,
            "INVALID_TOKEN",
            "expired",
        ),
        (
            lambda aws: moto_minter(aws).mint(
                iss="https://cognito-idp.us-east-1.amazonaws.com/other"
            ),
            401,
            "INVALID_TOKEN",
            "another issuer",
        ),
        (
            lambda aws: moto_minter(aws).mint(client_id="other-app"),
            401,
            "INVALID_TOKEN",
            "another client",
        ),
        (
            lambda aws: TokenMinter(client_id=aws.client_id).mint(),
            401,
            "INVALID_TOKEN",
            "unknown key",
        ),
        (lambda aws: aws.user_token("someone@example.com"), 403, "NOT_AN_ADMIN", "administrator"),
    ],
)
def test_only_admins_may_write_and_nothing_is_written_otherwise(
    aws: CognitoPool, make_token: object, status: int, code: str, detail: str
) -> None:
    token = make_token(aws)  # type: ignore[operator]
    response = invoke("POST", "/products", body=NEW, token=token)
    assert (response.status, response.json["code"]) == (status, code)
    assert detail in response.json["detail"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert stored() == (0, 0)


def test_a_non_bearer_scheme_is_refused(aws: CognitoPool) -> None:
    response = invoke("POST", "/products", body=NEW, headers={"authorization": "Basic YTpi"})
    assert (response.status, response.json["code"]) == (401, "INVALID_TOKEN")
