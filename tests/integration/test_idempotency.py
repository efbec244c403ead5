"""Idempotency-Key: a retried activation or issuance replays the first answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from licensing_core.store.models import ActivationRecord, LicenseRecord

from tests.support import Response, invoke

Admin = Callable[..., Response]


@pytest.fixture
def issue_body(admin: Admin, product: str, tiers: dict[str, str]) -> dict[str, Any]:
    customer = admin("POST", "/customers", {"email": "i@example.com", "name": "I"}).json
    return {
        "productId": product,
        "tierId": tiers["pro"],
        "customerId": customer["customerId"],
        "perpetual": True,
    }


def test_a_retried_issuance_issues_once(admin_token: str, issue_body: dict[str, Any]) -> None:
    headers = {"idempotency-key": "row-1"}
    first = invoke("POST", "/license-keys", body=issue_body, token=admin_token, headers=headers)
    again = invoke("POST", "/license-keys", body=issue_body, token=admin_token, headers=headers)
    assert first.status == again.status == 201
    assert first.json == again.json and LicenseRecord.count() == 1
    other = invoke(
        "POST",
        "/license-keys",
        body={**issue_body, "tierId": "x"},
        token=admin_token,
        headers=headers,
    )
    assert (other.status, other.json["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert invoke("POST", "/license-keys", body=issue_body, token=admin_token).status == 201
    assert LicenseRecord.count() == 2  # without the header, every request issues


def test_a_retried_activation_replays_its_client_id(
    admin: Admin, issue_body: dict[str, Any]
) -> None:
    key = admin("POST", "/license-keys", issue_body).json["keyToken"]
    body = {"keyToken": key, "machineId": "m1"}
    first = invoke(
        "POST", "/license-activations/activate", body=body, headers={"idempotency-key": "a1"}
    )
    again = invoke(
        "POST", "/license-activations/activate", body=body, headers={"idempotency-key": "a1"}
    )
    assert first.status == again.status == 201
    assert first.json["clientId"] == again.json["clientId"]  # no swap, same seat
    assert ActivationRecord.count() == 1
    bad = invoke(
        "POST",
        "/license-activations/activate",
        body=body,
        headers={"idempotency-key": "has spaces"},
    )
    assert (bad.status, bad.json["code"]) == (400, "INVALID_IDEMPOTENCY_KEY")


def test_failures_are_not_remembered(admin_token: str, issue_body: dict[str, Any]) -> None:
    body = {**issue_body, "customerId": "cus_missing"}
    headers = {"idempotency-key": "retry-me"}
    assert (
        invoke("POST", "/license-keys", body=body, token=admin_token, headers=headers).status == 422
    )
    assert (
        invoke("POST", "/license-keys", body=body, token=admin_token, headers=headers).status == 422
    )
    assert LicenseRecord.count() == 0
