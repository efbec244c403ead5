"""The table-grant check sees what handlers really do under moto: PynamoDB's calls and
transactions, Powertools' idempotency records, and a read its row does not grant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from licensing_core.services import catalog
from licensing_core.store.models import AuditRecord

from tests import table_grants
from tests.support import Response, invoke
from tests.table_grants import Touch

Admin = Callable[..., Response]


def test_a_handlers_transaction_is_recorded_table_by_table(admin: Admin) -> None:
    created = admin("POST", "/products", {"code": "Grants", "name": "Grants"})
    assert created.status == 201, created.text
    touched = table_grants.RECORDING.touches
    assert Touch("create_product", "products", "PutItem") in touched
    assert Touch("create_product", "uniques", "PutItem") in touched


def test_powertools_idempotency_records_are_recorded(
    admin: Admin, admin_token: str, product: str, tiers: dict[str, str]
) -> None:
    customer = admin("POST", "/customers", {"email": "g@example.com", "name": "G"}).json
    body = {
        "productId": product,
        "tierId": tiers["free"],
        "customerId": customer["customerId"],
        "perpetual": True,
    }
    issued = invoke(
        "POST", "/license-keys", body=body, token=admin_token, headers={"idempotency-key": "g1"}
    )
    assert issued.status == 201, issued.text
    assert Touch("issue_license", "idempotency", "PutItem") in table_grants.RECORDING.touches


def test_a_handler_reading_a_table_its_row_does_not_grant_fails(
    admin: Admin, product: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = catalog.get_product

    def also_reading_audit(product_id: str) -> Any:
        list(AuditRecord.query(product_id))
        return original(product_id)

    monkeypatch.setattr(catalog, "get_product", also_reading_audit)
    before = len(table_grants.RECORDING.violations)
    with pytest.raises(AssertionError) as failure:
        admin("GET", f"/products/{product}")
    expected = (
        "GET /products/{productId} (get_product): Query on table 'audit', "
        "which its row does not grant"
    )
    assert str(failure.value) == expected
    assert table_grants.RECORDING.violations[before:] == [expected]
    del table_grants.RECORDING.violations[before:]  # made on purpose: not the session's
