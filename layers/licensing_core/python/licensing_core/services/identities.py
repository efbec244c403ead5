"""Identities and their tenants: creating and reading them, and the identity lifecycle
(deactivating an identity stops all its licenses at once)."""

from __future__ import annotations

from typing import cast

from licensing_core import schemas
from licensing_core.domain.ids import new_id, utcnow
from licensing_core.identity.provider import get_identity_provider
from licensing_core.services import activations
from licensing_core.services.catalog import ProductCatalog, referenced
from licensing_core.store import activations as activation_store
from licensing_core.store import catalog as store
from licensing_core.store import licenses as license_store
from licensing_core.store.models import CustomerRecord, TenantRecord
from licensing_core.store.transaction import Transaction

#: Identities created without a tenant belong to this one (it needs no record).
DEFAULT_TENANT = "default"


def _tenant(record: TenantRecord) -> schemas.Tenant:
    return schemas.Tenant(
        tenant_id=record.tenant_id,
        name=record.name,
        default_product_id=record.default_product_id,
        default_tier_id=record.default_tier_id,
        created_at=record.created_at,
    )


def create_tenant(body: schemas.TenantCreate) -> schemas.Tenant:
    if body.default_product_id and body.default_tier_id:
        catalog = referenced(
            lambda: ProductCatalog.load(body.default_product_id or ""), "defaultProductId"
        )
        referenced(lambda: catalog.tier(body.default_tier_id or ""), "defaultTierId")
    record = TenantRecord(
        new_id("tnt"),
        name=body.name,
        default_product_id=body.default_product_id,
        default_tier_id=body.default_tier_id,
        created_at=utcnow(),
    )
    store.insert_tenant(record)
    return _tenant(record)


def get_tenant(tenant_id: str) -> schemas.Tenant:
    return _tenant(store.get_tenant(tenant_id))


def customer_view(record: CustomerRecord) -> schemas.Customer:
    return schemas.Customer(
        customer_id=record.customer_id,
        tenant_id=record.tenant_id,
        email=record.email,
        name=record.name,
        kind=record.kind,
        subject=record.subject,
        metadata=record.metadata,
        status=cast(schemas.CustomerStatus, record.status),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def create_customer(body: schemas.CustomerCreate) -> schemas.Customer:
    tenant_id = body.tenant_id or DEFAULT_TENANT
    if tenant_id != DEFAULT_TENANT:
        referenced(lambda: store.get_tenant(tenant_id), "tenantId")
    now = utcnow()
    record = CustomerRecord(
        new_id("cus"),
        tenant_id=tenant_id,
        email=body.email,
        name=body.name,
        kind=body.kind,
        subject=body.subject,
        metadata=body.metadata,
        status="active",
        created_at=now,
        updated_at=now,
    )
    store.insert_customer(record)
    return customer_view(record)


def get_customer(customer_id: str) -> schemas.Customer:
    return customer_view(store.get_customer(customer_id))


def list_tenant_customers(tenant_id: str, query: schemas.PageQuery) -> schemas.CustomerPage:
    if tenant_id != DEFAULT_TENANT:
        store.get_tenant(tenant_id)
    records, cursor = store.page_customers(tenant_id, query.limit, query.cursor)
    return schemas.CustomerPage(items=[customer_view(r) for r in records], next_cursor=cursor)


# Lifecycle


def _set_status(
    customer_id: str, to: str, action: str, actor: str, reason: str | None
) -> CustomerRecord:
    record = store.get_customer(customer_id)
    if record.status == to:
        return record
    now = utcnow()
    transaction = Transaction()
    transaction.update(
        record,
        [CustomerRecord.status.set(to), CustomerRecord.updated_at.set(now)],
        CustomerRecord.status == record.status,
    )
    transaction.save(
        license_store.audit_entry(
            customer_id,
            action,
            actor,
            reason=reason,
            at=now,
            details={"from": record.status, "to": to},
        )
    )
    transaction.run()
    record.status, record.updated_at = to, now
    return record


def _sync_provider(record: CustomerRecord) -> None:
    """Disable or enable the identity's account in the identity provider, when one is
    configured and knows it (idempotent: a retried request finishes the job)."""
    provider = get_identity_provider()
    if provider is None or not record.subject:
        return
    if record.status == "active":
        provider.enable(record.subject)
    else:
        provider.disable(record.subject)


def deactivate(
    customer_id: str, body: schemas.CustomerStatusChange, actor: str
) -> schemas.Customer:
    """Validation, heartbeats and usage refuse the identity from the commit on; then its
    account is disabled in the identity provider and the seats its machines held are
    freed (a retry finishes the job if it was interrupted)."""
    record = _set_status(customer_id, "deactivated", "identity.deactivated", actor, body.reason)
    _sync_provider(record)
    licenses, cursor = license_store.page_customer_licenses(customer_id, 100, None)
    while True:
        for license in licenses:
            for activation in activation_store.license_activations(license.license_id):
                activations.remove(activation, "activation.deactivated", actor)
        if cursor is None:
            break
        licenses, cursor = license_store.page_customer_licenses(customer_id, 100, cursor)
    return customer_view(record)


def reactivate(
    customer_id: str, body: schemas.CustomerStatusChange, actor: str
) -> schemas.Customer:
    record = _set_status(customer_id, "active", "identity.reactivated", actor, body.reason)
    _sync_provider(record)
    return customer_view(record)
