"""Repository functions of the catalog: products, features, tiers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from licensing_core.domain.errors import AlreadyExists
from licensing_core.store.base import get_record
from licensing_core.store.errors import storage_errors
from licensing_core.store.models import (
    FeatureRecord,
    ProductRecord,
    TierRecord,
    UniqueRecord,
)
from licensing_core.store.pages import page
from licensing_core.store.transaction import Transaction


def claim(transaction: Transaction, key: str, owner: str, taken: Exception) -> None:
    """Claim a unique value in ``transaction``, which fails with ``taken`` if it is."""
    transaction.save(
        UniqueRecord(key, owner=owner), condition=UniqueRecord.key.does_not_exist(), meaning=taken
    )


@dataclass(frozen=True)
class Unique:
    """A unique value to claim with another write (``taken``: what it means if it is)."""

    key: str
    owner: str
    taken: Exception


# Products


def product_code_key(code: str) -> str:
    """Product codes are unique regardless of case (they name token audiences)."""
    return f"PRODUCT_CODE#{code.lower()}"


def insert_product(product: ProductRecord) -> None:
    """Store a new product, claiming its code in the same transaction."""
    transaction = Transaction()
    transaction.save(product, condition=ProductRecord.product_id.does_not_exist())
    taken = AlreadyExists(f"a product with code {product.code!r} exists", code="PRODUCT_CODE_TAKEN")
    claim(transaction, product_code_key(product.code), product.product_id, taken)
    transaction.run()


def get_product(product_id: str) -> ProductRecord:
    return get_record(ProductRecord, product_id, code="PRODUCT_NOT_FOUND", what="product")


def find_product_id(code: str) -> str | None:
    """The id of the product with this code (any case), if there is one."""
    with storage_errors():
        try:
            return str(UniqueRecord.get(product_code_key(code), consistent_read=True).owner)
        except UniqueRecord.DoesNotExist:
            return None


def page_products(limit: int, cursor: str | None) -> tuple[list[ProductRecord], str | None]:
    return page(
        lambda start: ProductRecord.scan(limit=limit, page_size=limit, last_evaluated_key=start),
        {"product_id"},
        cursor,
    )


# Features


def insert_feature(feature: FeatureRecord) -> None:
    exists = AlreadyExists(f"feature {feature.key!r} exists in this product", code="FEATURE_EXISTS")
    with storage_errors(on_condition_failed=exists):
        feature.save(condition=FeatureRecord.key.does_not_exist())


def product_features(product_id: str) -> list[FeatureRecord]:
    with storage_errors():
        return list(FeatureRecord.query(product_id, consistent_read=True))


# Tiers


def tier_code_key(product_id: str, code: str) -> str:
    return f"TIER_CODE#{product_id}#{code.lower()}"


def product_tiers(product_id: str) -> list[TierRecord]:
    with storage_errors():
        return list(TierRecord.query(product_id, consistent_read=True))


def save_tier(tier: TierRecord, product: ProductRecord, *, new: bool) -> None:
    """Insert or replace a tier, bumping the product's ``tiers_version`` only if nobody
    else did since ``product`` was read: inheritance checks never race."""
    seen_version = product.tiers_version
    transaction = Transaction()
    exists = TierRecord.tier_id.exists()
    transaction.save(tier, condition=~exists if new else exists)
    transaction.update(
        product,
        actions=[ProductRecord.tiers_version.set(seen_version + 1)],
        condition=ProductRecord.tiers_version == seen_version,
    )
    if new:
        taken = AlreadyExists(f"a tier with code {tier.code!r} exists", code="TIER_CODE_TAKEN")
        claim(transaction, tier_code_key(tier.product_id, tier.code), tier.tier_id, taken)
    transaction.run()


def max_users(tiers: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The seats (``maxUsers``) of each (productId, tierId) that exists."""
    keys = list(tiers)
    with storage_errors():
        return {
            (tier.product_id, tier.tier_id): int(tier.max_users)
            for tier in TierRecord.batch_get(
                keys, attributes_to_get=["product_id", "tier_id", "max_users"]
            )
        }
