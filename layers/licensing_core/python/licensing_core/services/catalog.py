"""Catalog use cases: products (features, tiers, tenants and customers follow)."""

from __future__ import annotations

from licensing_core import schemas
from licensing_core.domain.ids import new_id, utcnow
from licensing_core.store import catalog as store
from licensing_core.store.models import ProductRecord


def _product(record: ProductRecord) -> schemas.Product:
    return schemas.Product(
        product_id=record.product_id,
        code=record.code,
        name=record.name,
        description=record.description,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def create_product(body: schemas.ProductCreate) -> schemas.Product:
    now = utcnow()
    record = ProductRecord(
        new_id("prd"),
        code=body.code,
        name=body.name,
        description=body.description,
        created_at=now,
        updated_at=now,
    )
    store.insert_product(record)
    return _product(record)


def get_product(product_id: str) -> schemas.Product:
    return _product(store.get_product(product_id))


def list_products(query: schemas.PageQuery) -> schemas.ProductPage:
    records, cursor = store.page_products(query.limit, query.cursor)
    return schemas.ProductPage(items=[_product(r) for r in records], next_cursor=cursor)
