"""Repository functions of the catalog: products, features, tiers, tenants, customers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from licensing_core.domain.errors import AlreadyExists, Conflict, DomainError, NotFound
from licensing_core.store.base import connection
from licensing_core.store.errors import storage_errors, transact
from licensing_core.store.models import (
    CustomerRecord,
    FeatureRecord,
    ProductRecord,
    TenantRecord,
    TierRecord,
    UniqueRecord,
)
from licensing_core.store.pages import decode_cursor, encode_cursor


class ConcurrentChange(Conflict):
    code = "CONCURRENT_CHANGE"
    title = "Concurrent change"


def _claim(transaction: TransactWrite, key: str, owner: str) -> None:
    """Claim a unique value inside ``transaction``; the transaction fails if it is taken."""
    transaction.save(UniqueRecord(key, owner=owner), condition=UniqueRecord.key.does_not_exist())


def _refusals(*meanings: DomainError | None) -> Callable[[list[str | None]], DomainError]:
    """Map the first failed condition of a transaction to what it means.

    ``meanings`` follow DynamoDB's cancellation reasons, which follow the order
    PynamoDB sends items in: condition checks, deletes, puts, then updates.
    Any other failed condition is a concurrent change.
    """

    def refused(reasons: list[str | None]) -> DomainError:
        for reason, meaning in zip(reasons, meanings, strict=False):
            if reason == "ConditionalCheckFailed" and meaning is not None:
                return meaning
        return ConcurrentChange("the record changed meanwhile; retry")

    return refused


M = TypeVar("M", bound=Model)


def _get(model: type[M], key: str, *, code: str, what: str) -> M:
    with storage_errors():
        try:
            return model.get(key, consistent_read=True)
        except model.DoesNotExist as error:
            raise NotFound(f"no {what} {key}", code=code) from error


# Products


def product_code_key(code: str) -> str:
    """Product codes are unique regardless of case (they name token audiences)."""
    return f"PRODUCT_CODE#{code.lower()}"


def insert_product(product: ProductRecord) -> None:
    """Store a new product, claiming its code in the same transaction."""

    def write() -> None:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(product, condition=ProductRecord.product_id.does_not_exist())
            _claim(transaction, product_code_key(product.code), product.product_id)

    taken = AlreadyExists(f"a product with code {product.code!r} exists", code="PRODUCT_CODE_TAKEN")
    transact(write, on_condition_failed=_refusals(None, taken))


def get_product(product_id: str) -> ProductRecord:
    return _get(ProductRecord, product_id, code="PRODUCT_NOT_FOUND", what="product")


def find_product_id(code: str) -> str | None:
    """The id of the product with this code (any case), if there is one."""
    with storage_errors():
        try:
            return str(UniqueRecord.get(product_code_key(code), consistent_read=True).owner)
        except UniqueRecord.DoesNotExist:
            return None


def page_products(limit: int, cursor: str | None) -> tuple[list[ProductRecord], str | None]:
    with storage_errors():
        results = ProductRecord.scan(
            limit=limit, page_size=limit, last_evaluated_key=decode_cursor(cursor, {"product_id"})
        )
        items = list(results)
        return items, encode_cursor(results.last_evaluated_key)


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

    def write() -> None:
        with TransactWrite(connection=connection()) as transaction:
            exists = TierRecord.tier_id.exists()
            transaction.save(tier, condition=~exists if new else exists)
            transaction.update(
                product,
                actions=[ProductRecord.tiers_version.set(seen_version + 1)],
                condition=ProductRecord.tiers_version == seen_version,
            )
            if new:
                _claim(transaction, tier_code_key(tier.product_id, tier.code), tier.tier_id)

    taken = AlreadyExists(f"a tier with code {tier.code!r} exists", code="TIER_CODE_TAKEN")
    transact(write, on_condition_failed=_refusals(None, taken if new else None))


# Tenants and customers


def insert_tenant(tenant: TenantRecord) -> None:
    with storage_errors(on_condition_failed=AlreadyExists("tenant exists", code="TENANT_EXISTS")):
        tenant.save(condition=TenantRecord.tenant_id.does_not_exist())


def get_tenant(tenant_id: str) -> TenantRecord:
    return _get(TenantRecord, tenant_id, code="TENANT_NOT_FOUND", what="tenant")


def insert_customer(customer: CustomerRecord) -> None:
    """Store an identity, claiming its email (per tenant) and IdP subject (globally)."""

    def write() -> None:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(customer, condition=CustomerRecord.customer_id.does_not_exist())
            email = f"EMAIL#{customer.tenant_id}#{customer.email}"
            _claim(transaction, email, customer.customer_id)
            if customer.subject:
                _claim(transaction, f"SUBJECT#{customer.subject}", customer.customer_id)

    transact(
        write,
        on_condition_failed=_refusals(
            None,
            AlreadyExists("an identity with this email exists in the tenant", code="EMAIL_TAKEN"),
            AlreadyExists("an identity with this subject exists", code="SUBJECT_TAKEN"),
        ),
    )


def get_customer(customer_id: str) -> CustomerRecord:
    return _get(CustomerRecord, customer_id, code="CUSTOMER_NOT_FOUND", what="customer")


def page_customers(
    tenant_id: str, limit: int, cursor: str | None
) -> tuple[list[CustomerRecord], str | None]:
    with storage_errors():
        results = CustomerRecord.by_tenant.query(
            tenant_id,
            limit=limit,
            page_size=limit,
            last_evaluated_key=decode_cursor(cursor, {"customer_id", "tenant_id"}),
        )
        items = list(results)
        return items, encode_cursor(results.last_evaluated_key)
