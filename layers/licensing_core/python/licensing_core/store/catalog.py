"""Repository functions of the catalog: products (features and tiers come next)."""

from __future__ import annotations

from pynamodb.transactions import TransactWrite

from licensing_core.domain.errors import AlreadyExists, DomainError, NotFound
from licensing_core.store.base import connection
from licensing_core.store.errors import storage_errors, transact
from licensing_core.store.models import ProductRecord, UniqueRecord
from licensing_core.store.pages import decode_cursor, encode_cursor


def product_code_key(code: str) -> str:
    """Product codes are unique regardless of case (they name token audiences)."""
    return f"PRODUCT_CODE#{code.lower()}"


def insert_product(product: ProductRecord) -> None:
    """Store a new product, claiming its code in the same transaction."""

    def write() -> None:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(product, condition=ProductRecord.product_id.does_not_exist())
            transaction.save(
                UniqueRecord(product_code_key(product.code), owner=product.product_id),
                condition=UniqueRecord.key.does_not_exist(),
            )

    def refused(reasons: list[str | None]) -> DomainError:
        return AlreadyExists(
            f"a product with code {product.code!r} exists", code="PRODUCT_CODE_TAKEN"
        )

    transact(write, on_condition_failed=refused)


def get_product(product_id: str) -> ProductRecord:
    with storage_errors():
        try:
            return ProductRecord.get(product_id, consistent_read=True)
        except ProductRecord.DoesNotExist as error:
            raise NotFound(f"no product {product_id}", code="PRODUCT_NOT_FOUND") from error


def page_products(limit: int, cursor: str | None) -> tuple[list[ProductRecord], str | None]:
    with storage_errors():
        results = ProductRecord.scan(
            limit=limit, page_size=limit, last_evaluated_key=decode_cursor(cursor, ProductRecord)
        )
        items = list(results)
        return items, encode_cursor(results.last_evaluated_key)
