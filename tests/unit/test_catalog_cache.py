"""The container's copy of a product catalog: served without a read for
``catalog_cache_seconds``, then revalidated by the product's ``tiers_version``."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from licensing_core.services import catalog
from licensing_core.settings import ConfigurationError, Settings, reset_settings
from licensing_core.store.models import ProductRecord


class FakeStore:
    """The catalog store, counting reads; ``version`` is the stored ``tiers_version``."""

    def __init__(self) -> None:
        self.reads: Counter[str] = Counter()
        self.version = 0

    def get_product(self, product_id: str) -> ProductRecord:
        self.reads["product"] += 1
        now = datetime.now(UTC)
        return ProductRecord(
            product_id,
            code="App",
            name="App",
            tiers_version=self.version,
            created_at=now,
            updated_at=now,
        )

    def product_features(self, product_id: str) -> list[object]:
        self.reads["features"] += 1
        return []

    def product_tiers(self, product_id: str) -> list[object]:
        self.reads["tiers"] += 1
        return []


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> FakeStore:
    fake = FakeStore()
    for name in ("get_product", "product_features", "product_tiers"):
        monkeypatch.setattr(catalog.store, name, getattr(fake, name))
    return fake


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(catalog.time, "monotonic", lambda: now[0])
    return now


def test_the_copy_is_served_without_a_read_within_the_bound(
    store: FakeStore, clock: list[float]
) -> None:
    first = catalog.ProductCatalog.cached("prd_1")
    assert catalog.ProductCatalog.cached("prd_1") is first
    clock[0] += 59
    assert catalog.ProductCatalog.cached("prd_1") is first
    assert store.reads == {"product": 1, "features": 1, "tiers": 1}


def test_past_the_bound_one_read_revalidates_it_and_a_new_version_reloads_it(
    store: FakeStore, clock: list[float]
) -> None:
    first = catalog.ProductCatalog.cached("prd_1")
    clock[0] += 61
    assert catalog.ProductCatalog.cached("prd_1") is first  # same version: kept
    assert store.reads == {"product": 2, "features": 1, "tiers": 1}
    clock[0] += 30
    assert catalog.ProductCatalog.cached("prd_1") is first  # revalidated 30 s ago
    assert store.reads["product"] == 2
    store.version = 1
    clock[0] += 31
    assert catalog.ProductCatalog.cached("prd_1") is not first
    assert store.reads == {"product": 3, "features": 2, "tiers": 2}


def test_zero_revalidates_on_every_call(
    store: FakeStore, clock: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LICENSING_CATALOG_CACHE_SECONDS", "0")
    reset_settings()
    for _ in range(3):
        catalog.ProductCatalog.cached("prd_1")
    assert store.reads == {"product": 3, "features": 1, "tiers": 1}


def test_a_tier_written_here_is_seen_at_once(store: FakeStore, clock: list[float]) -> None:
    first = catalog.ProductCatalog.cached("prd_1")
    catalog.ProductCatalog.forget("prd_1")
    assert catalog.ProductCatalog.cached("prd_1") is not first


@pytest.mark.parametrize("value", ["-1", "3601", "soon"])
def test_the_bound_is_validated(value: str) -> None:
    with pytest.raises(ConfigurationError):
        Settings.from_env({"LICENSING_CATALOG_CACHE_SECONDS": value})
