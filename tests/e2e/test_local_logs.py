"""The local server's output reads as a log: metrics (EMF JSON) only with --verbose."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.client import LocalServer, free_port

pytestmark = pytest.mark.e2e

EMF = '"_aws"'  # the key every CloudWatch embedded-metric-format line carries


def _activate(server: LocalServer) -> None:
    """A request that records business metrics (an activation)."""
    admin = server.admin_token
    product = server.request("GET", "/products", token=admin).body["items"][0]["productId"]
    tier = server.request("GET", f"/products/{product}/tiers", token=admin).body["items"][0]
    customer = server.request(
        "POST", "/customers", token=admin, json_body={"email": "logs@example.com", "name": "L"}
    ).body["customerId"]
    key = server.request(
        "POST",
        "/license-keys",
        token=admin,
        json_body={"productId": product, "tierId": tier["tierId"], "customerId": customer,
                   "perpetual": True},
    ).body["keyToken"]  # fmt: skip
    activated = server.request(
        "POST", "/license-activations/activate", json_body={"keyToken": key, "machineId": "m"}
    )
    assert activated.status == 201, activated.body


@pytest.mark.parametrize(("options", "metrics"), [((), False), (("--verbose",), True)])
def test_metrics_only_with_verbose(tmp_path: Path, options: tuple[str, ...], metrics: bool) -> None:
    server = LocalServer.start(tmp_path / "data", "--port", str(free_port()), *options)
    try:
        _activate(server)
    finally:
        assert server.stop() == 0
    output = server.output()
    assert "POST /license-activations/activate" in output  # the access log is there
    assert (EMF in output) is metrics
