"""``make run`` runs the stream consumers too: lifecycle events flow locally.

The local server feeds ``functions/publish_events`` from the embedded moto's audit
stream, as the deployed mapping does, and logs one line per delivered event.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.e2e.client import LocalServer

pytestmark = pytest.mark.e2e


def _delivered(server: LocalServer, subject: str, timeout: float = 15.0) -> list[str]:
    """The event lines the server logged for ``subject`` (waits for at least one)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in server.output().splitlines() if f" {subject}" in line]
        events = [
            line for line in lines if re.search(r"event [a-z_]+\.[a-z_]+ evt_[0-9a-f]{32} ", line)
        ]
        if events or time.monotonic() > deadline:
            return events
        time.sleep(0.1)


def test_a_committed_change_is_published_and_logged(local_server: LocalServer) -> None:
    admin = local_server.admin_token
    code = f"Events.{uuid.uuid4().hex[:8]}"
    product = local_server.request(
        "POST", "/products", token=admin, json_body={"code": code, "name": "Events"}
    ).body
    tier = local_server.request(
        "POST",
        f"/products/{product['productId']}/tiers",
        token=admin,
        json_body={"code": "base", "name": "Base", "monthlyPrice": 0,
                   "currency": "EUR", "billingPeriods": ["monthly"], "maxUsers": 1},
    ).body["tierId"]  # fmt: skip
    customer = local_server.request(
        "POST",
        "/customers",
        token=admin,
        json_body={"email": f"{uuid.uuid4().hex[:10]}@example.com", "name": "Events"},
    ).body["customerId"]
    issued = local_server.request(
        "POST",
        "/license-keys",
        token=admin,
        json_body={
            "productId": product["productId"],
            "tierId": tier,
            "customerId": customer,
            "perpetual": True,
        },
    )
    assert issued.status == 201, issued.body
    events = _delivered(local_server, issued.body["licenseId"])
    assert any("event license.issued evt_" in line for line in events), events
    identity = _delivered(local_server, customer)
    assert any("event identity.created evt_" in line for line in identity), identity
