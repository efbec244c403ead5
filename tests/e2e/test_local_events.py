"""``make run`` runs the stream consumers too: lifecycle events flow locally.

The local server feeds ``functions/publish_events`` from the embedded moto's audit
stream, as the deployed mapping does, and logs one line per delivered event.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

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


def test_changes_answered_just_before_ctrl_c_still_publish(tmp_path: Path) -> None:
    """Ctrl-C right after the last answer: the server stops taking requests, then
    delivers every committed audit record before it exits (none waits for a restart,
    whose consumers start at the stream's end)."""
    server = LocalServer.start(tmp_path / "data", "--port", "0")
    try:
        customers = [
            server.request(
                "POST",
                "/customers",
                token=server.admin_token,
                json_body={"email": f"{uuid.uuid4().hex[:10]}@example.com", "name": "Last"},
            ).body["customerId"]
            for _ in range(12)
        ]
    finally:
        code = server.stop()
    output = server.output()
    assert code == 0, output
    missing = [c for c in customers if "event identity.created evt_" not in _line(output, c)]
    assert not missing, f"no event for {missing}:\n{output[-3000:]}"


def _line(output: str, subject: str) -> str:
    return "\n".join(line for line in output.splitlines() if line.endswith(f" {subject}"))
