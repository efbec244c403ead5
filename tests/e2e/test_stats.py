"""Statistics over HTTP: the local server runs the rollup consumers on the embedded
moto's audit and usage streams, so an activation shows in today's point within moments.
The rollup is asynchronous: the test polls, with a bounded wait."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from licensing_cli.main import main

from tests.e2e.client import LocalServer

pytestmark = pytest.mark.e2e
WAIT_SECONDS = 20.0


def _admin(server: LocalServer, method: str, path: str, body: Any = None) -> Any:
    reply = server.request(method, path, token=server.admin_token, json_body=body)
    assert reply.status in (200, 201), (path, reply.status, reply.body)
    return reply.body


def _until(read: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    """``read()`` again until ``done`` says so, for at most :data:`WAIT_SECONDS`."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_todays_point_shows_an_activation_its_usage_and_its_deactivation(
    local_server: LocalServer, tmp_path: Path
) -> None:
    label = uuid.uuid4().hex[:8]
    product = _admin(local_server, "POST", "/products", {"code": f"Stats.{label}", "name": label})
    tier = _admin(
        local_server,
        "POST",
        f"/products/{product['productId']}/tiers",
        {"code": "metered", "name": "Metered", "monthlyPrice": 0, "annualPrice": 0,
         "currency": "EUR", "billingPeriods": ["monthly"], "maxUsers": 3,
         "quotas": {"api_calls": {"limit": 100, "period": "month"}}},
    )  # fmt: skip
    customer = _admin(
        local_server, "POST", "/customers", {"email": f"{label}@example.com", "name": "Stats"}
    )
    key = _admin(
        local_server,
        "POST",
        "/license-keys",
        {"productId": product["productId"], "tierId": tier["tierId"],
         "customerId": customer["customerId"], "perpetual": True},
    )  # fmt: skip
    activated = local_server.request(
        "POST",
        "/license-activations/activate",
        json_body={"keyToken": key["keyToken"], "machineId": f"m-{label}"},
    )
    assert activated.status == 201, activated.body
    client_id = activated.body["clientId"]
    used = local_server.request(
        "POST",
        "/usage",
        json_body={"clientId": client_id, "meter": "api_calls", "quantity": 5,
                   "idempotencyKey": label},
    )  # fmt: skip
    assert used.status == 200, used.body

    def today() -> dict[str, Any]:
        series = _admin(local_server, "GET", f"/stats?productId={product['productId']}")
        point: dict[str, Any] = series["points"][-1]
        assert point["date"] == series["to"]
        return point

    point = _until(today, lambda p: p["activations"] and p["usage"])
    assert (point["activations"], point["activeMachines"], point["issued"]) == (1, 1, 1), point
    assert point["usage"] == {"api_calls": 5}
    summary = _admin(local_server, "GET", f"/stats/summary?productId={product['productId']}")
    assert summary["licenses"]["byStatus"] == {"active": 1, "suspended": 0, "revoked": 0}
    assert summary["seats"] == {"used": 1, "total": 3}

    gone = local_server.request(
        "POST", "/license-activations/deactivate", json_body={"clientId": client_id}
    )
    assert gone.body == {"deactivated": True}
    point = _until(today, lambda p: p["deactivations"])
    assert (point["activations"], point["deactivations"], point["activeMachines"]) == (1, 1, 0)

    env = {"LICENSING_URL": local_server.base_url, "LICENSING_TOKEN": local_server.admin_token,
           "XDG_CONFIG_HOME": str(tmp_path), "COLUMNS": "160"}  # fmt: skip
    out = io.StringIO()
    code = main(["stats", "--product", product["code"], "--days", "3"], env=env, stdout=out,
                stderr=io.StringIO())  # fmt: skip
    assert code == 0
    lines = out.getvalue().splitlines()
    assert any(point["date"] in line for line in lines), out.getvalue()  # today's row
    activations = next(line for line in lines if line.startswith("Activations "))
    assert activations.endswith("max 1"), out.getvalue()
