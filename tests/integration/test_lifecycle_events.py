"""Every mutation emits its lifecycle event, with the fields cdk/EVENTS.md documents."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from licensing_core import events

from tests.integration.conftest import tier_body
from tests.support import Response, invoke

EVENTS_DOC = Path(__file__).resolve().parents[2] / "cdk" / "EVENTS.md"


def documented_fields() -> dict[str, set[str]]:
    """detail-type -> the fields its table in EVENTS.md lists."""
    sections = re.split(r"^### `([a-z_.]+)`\s*$", EVENTS_DOC.read_text(), flags=re.MULTILINE)
    return {
        name: set(re.findall(r"^\| `(\w+)`", body, flags=re.MULTILINE))
        for name, body in zip(sections[1::2], sections[2::2], strict=True)
    }


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[events.Event]:
    seen: list[events.Event] = []

    def capture(batch: Iterable[events.Event]) -> int:
        batch = list(batch)
        seen.extend(batch)
        return len(batch)

    monkeypatch.setattr(events, "publish", capture)
    return seen


def test_a_lifecycle_emits_every_event_with_its_documented_fields(
    published: list[events.Event],
    admin: Callable[..., Response],
    product: str,
    tiers: dict[str, str],
) -> None:
    one_seat = admin(
        "POST",
        f"/products/{product}/tiers",
        tier_body("solo", maxUsers=1, quotas={"api_calls": {"limit": 5, "period": "day"}}),
    ).json["tierId"]
    tenant = admin("POST", "/tenants", {"name": "Events"}).json["tenantId"]
    customer = admin(
        "POST", "/customers", {"email": "ev@example.com", "name": "Ev", "tenantId": tenant}
    ).json["customerId"]
    key = admin(
        "POST",
        "/license-keys",
        {"productId": product, "tierId": one_seat, "customerId": customer,
         "expiresAt": "2090-01-01T00:00:00Z"},
    ).json  # fmt: skip
    license_path = f"/license-keys/{key['licenseId']}"
    activated = invoke(
        "POST",
        "/license-activations/activate",
        body={"keyToken": key["keyToken"], "machineId": "m1"},
    ).json
    refused = invoke(
        "POST",
        "/license-activations/activate",
        body={"keyToken": key["keyToken"], "machineId": "m2"},
    )
    assert refused.status == 409
    invoke("POST", "/license-activations/deactivate", body={"clientId": activated["clientId"]})
    over = invoke(
        "POST",
        "/usage",
        body={
            "keyToken": key["keyToken"],
            "meter": "api_calls",
            "quantity": 6,
            "idempotencyKey": "k",
        },
    )
    assert over.status == 429
    for path, body in (
        (f"{license_path}/suspend", {"reason": "unpaid"}),
        (f"{license_path}/reinstate", {}),
        (f"{license_path}/renew", {"expiresAt": "2099-01-01T00:00:00Z"}),
        (f"{license_path}/regenerate", {}),
        (f"/customers/{customer}/deactivate", {"reason": "left"}),
        (f"/customers/{customer}/reactivate", {}),
        (f"{license_path}/revoke", {"reason": "done"}),
    ):
        answer = admin("POST", path, body)
        assert answer.status in (200, 201), (path, answer.text)

    documented = documented_fields()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in published:
        assert event.detail_type in documented, event.detail_type
        by_type.setdefault(event.detail_type, []).append(dict(event.detail))
    expected = {
        "license.issued", "license.suspended", "license.reinstated", "license.renewed",
        "license.regenerated", "license.revoked", "activation.created",
        "activation.deactivated", "seat.limit_reached", "quota.exceeded",
        "identity.created", "identity.deactivated", "identity.reactivated", "tenant.created",
    }  # fmt: skip
    assert expected <= set(by_type), expected - set(by_type)
    for detail_type, details in by_type.items():
        for detail in details:
            missing = documented[detail_type] - set(detail)
            assert not missing, (detail_type, missing, detail)
            assert not any("token" in name.lower() for name in detail), detail
    (issued,) = by_type["license.issued"]
    assert (issued["licenseId"], issued["customerId"], issued["tenantId"]) == (
        key["licenseId"], customer, tenant
    )  # fmt: skip
    (created,) = by_type["activation.created"]
    assert (created["seatsUsed"], created["maxUsers"], created["machineId"]) == (1, 1, "m1")
    (freed,) = by_type["activation.deactivated"]
    assert freed["seatsUsed"] == 0 and freed["actor"] == "application"
