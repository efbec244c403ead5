"""The fuzz suite drives its own ``python -m local`` server (fuzzing leaves junk behind)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.client import LocalServer
from tests.security.support import Api, Dynamo, World, build_world, serve, user_token


@dataclass(frozen=True)
class FuzzTarget:
    """Where to send generated requests, and real ids for path parameters."""

    api: Api
    world: World
    ids: dict[str, str]

    @property
    def base_url(self) -> str:
        return self.api.server.base_url


@pytest.fixture(scope="session")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    yield from serve(tmp_path_factory, "fuzz")


@pytest.fixture(scope="session")
def fuzz(fuzz_server: LocalServer) -> FuzzTarget:
    dynamo = Dynamo(str(fuzz_server.state()["aws_endpoint"]))
    api = Api(fuzz_server, user_token(fuzz_server), dynamo)
    world = build_world(api)
    license = world.license()
    activation = world.activate(license)
    ids = {
        "productId": world.product_id,
        "tierId": world.tiers["five"],
        "tenantId": world.tenant_id,
        "customerId": license.customer_id,
        "licenseId": license.license_id,
        "activationId": activation["activationId"],
    }
    return FuzzTarget(api, world, ids)
