"""Identities and their tenants: creating and reading them, and the identity lifecycle
(deactivating an identity stops all its licenses at once)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import cast

from licensing_core import schemas
from licensing_core.domain.errors import (
    AlreadyExists,
    ConcurrentChange,
    Forbidden,
    IdentityMismatch,
    LicenseNotActive,
    TenantLimitReached,
    ValidationFailed,
)
from licensing_core.domain.ids import new_id, utcnow
from licensing_core.identity.provider import get_identity_provider
from licensing_core.services import activations, customers, licenses, usage
from licensing_core.services.catalog import ProductCatalog, referenced
from licensing_core.services.customers import DEFAULT_TENANT
from licensing_core.store import activations as activation_store
from licensing_core.store import audit as audit_store
from licensing_core.store import identities as store
from licensing_core.store import licenses as license_store
from licensing_core.store import tenants as tenant_store
from licensing_core.store.models import CustomerRecord, TenantRecord, TierRecord

#: A racing write on the same identity is retried this many times.
WRITE_ATTEMPTS = 3


# Tenants


def _tenant(record: TenantRecord) -> schemas.Tenant:
    policy = record.provisioning
    return schemas.Tenant(
        tenant_id=record.tenant_id,
        name=record.name,
        provisioning=schemas.ProvisioningPolicy.model_validate(policy) if policy else None,
        license_id=record.license_id,
        created_at=record.created_at,
    )


def _check_policy(policy: schemas.ProvisioningPolicy) -> tuple[ProductCatalog, TierRecord]:
    """A policy must name a tier that exists and that may be issued without a person
    stepping up (sensitive tiers demand it for every license)."""
    catalog = referenced(lambda: ProductCatalog.load(policy.product_id), "provisioning.productId")
    tier = referenced(lambda: catalog.tier(policy.tier_id), "provisioning.tierId")
    if tier.sensitive:
        raise ValidationFailed(
            "a sensitive tier's licenses need a step-up for each issuance; it cannot be "
            "provisioned automatically",
            code="TIER_NOT_PROVISIONABLE",
            field="provisioning.tierId",
        )
    return catalog, tier


def create_tenant(body: schemas.TenantCreate, actor: str) -> schemas.Tenant:
    """A tenant; served by ``licenseId`` only while that license serves fewer tenants than
    its tier's ``maxTenants`` (a conditional counter on the license, in the same
    transaction, so racing creations never exceed it)."""
    if body.provisioning is not None:
        _check_policy(body.provisioning)
    now = utcnow()
    record = TenantRecord(
        new_id("tnt"),
        name=body.name,
        provisioning=body.provisioning.model_dump() if body.provisioning else None,
        license_id=body.license_id,
        created_at=now,
        updated_at=now,
    )
    served_by = None if body.license_id is None else _serving(body.license_id)
    audit = audit_store.entry(
        record.tenant_id, "tenant.created", actor, at=now, details={"licenseId": body.license_id}
    )
    store.insert_tenant(record, audit, served_by)
    return _tenant(record)


def _serving(license_id: str) -> store.Serving:
    """The license that is to serve one more tenant, within its tier's ``maxTenants``."""
    license = referenced(lambda: license_store.get_license(license_id), "licenseId")
    if license.status != "active":
        raise LicenseNotActive(f"the license is {license.status}", licenseStatus=license.status)
    limit = int(ProductCatalog.load(license.product_id).tier(license.tier_id).max_tenants)
    return store.Serving(
        license,
        limit,
        TenantLimitReached(
            f"the license already serves its tier's maximum of {limit} tenants",
            maxTenants=limit,
        ),
    )


def get_tenant(tenant_id: str) -> schemas.Tenant:
    return _tenant(store.get_tenant(tenant_id))


def summary(tenant_id: str) -> schemas.TenantSummary:
    """Identity, license and current usage counts of a tenant (read from indexes: they
    may trail the last second's writes)."""
    customers.existing_tenant(tenant_id)
    now = utcnow()
    identities: Counter[str] = Counter()
    for customer in tenant_store.customers(tenant_id):
        kind = "services" if customer.kind == "service" else "humans"
        identities.update((customer.status, kind))
    licenses_by = Counter(
        "expired" if license.status == "active" and license.expires_at <= now else license.status
        for license in tenant_store.licenses(tenant_id)
    )
    month, _ = usage.period_of("month", now)
    today, _ = usage.period_of("day", now)
    used: Counter[tuple[str, str]] = Counter()
    counters: Counter[tuple[str, str]] = Counter()
    for counter in tenant_store.usage(tenant_id, month):
        if counter.period in (month, today):
            used[counter.meter, counter.period] += int(counter.used)
            counters[counter.meter, counter.period] += 1
    return schemas.TenantSummary(
        tenant_id=tenant_id,
        identities=schemas.IdentityCounts(**identities),
        licenses=schemas.LicenseCounts(**licenses_by),
        usage=[
            schemas.MeterUsage(meter=meter, period=period, used=used[meter, period], counters=count)
            for (meter, period), count in sorted(counters.items())
        ],
        generated_at=now,
    )


# Identities


def customer_view(
    record: CustomerRecord, provisioned: schemas.LicenseKey | None = None
) -> schemas.Customer:
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
        provisioned_license=provisioned,
    )


def create_customer(
    body: schemas.CustomerCreate, actor: str, *, tenant: str | None = None
) -> schemas.Customer:
    """An identity in ``body.tenantId``, else the caller's ``tenant`` (a tenant
    administrator's), else the default tenant; the tenant's provisioning policy issues its
    license at once.

    A tenant administrator may not bind an identity-provider account (``subject``): it
    could name a person of another tenant, whose account deactivating the identity would
    then disable. Accounts are bound when their owner signs up or claims a license.
    """
    if tenant is not None and body.subject is not None:
        raise Forbidden(
            "only a platform administrator may bind an identity-provider account; it is "
            "bound when its owner signs up or claims a license",
            code="SUBJECT_NOT_ALLOWED",
        )
    tenant_id = body.tenant_id or tenant or DEFAULT_TENANT
    tenant_record = referenced(lambda: customers.existing_tenant(tenant_id), "tenantId")
    policy = None
    if tenant_record is not None and tenant_record.provisioning:
        policy = schemas.ProvisioningPolicy.model_validate(tenant_record.provisioning)
        catalog, tier = _check_policy(policy)
    now = utcnow()
    identity = customers.new(body, tenant_id, actor, now)
    if policy is None:
        store.insert_identity(identity)
        return customer_view(identity.record)
    # the license, in the identity's own transaction
    expires_at = None if policy.days is None else now + timedelta(days=policy.days)
    license, issued, token = licenses.new_license(
        identity.record, catalog, tier, expires_at, f"{actor} (provisioning of {tenant_id})", now
    )
    license_store.issue(license, issued, new_identity=identity)
    provisioned = schemas.LicenseKey(
        license_id=license.license_id, key_token=token, expires_at=license.expires_at
    )
    return customer_view(identity.record, provisioned)


def identity_for(
    subject: str,
    email: str,
    *,
    tenant: str = DEFAULT_TENANT,
    name: str | None = None,
    metadata: dict[str, str | int | bool] | None = None,
    actor: str,
) -> CustomerRecord:
    """The identity of an identity-provider account: the one bound to its subject, else
    the one with its email in ``tenant`` (bound now), else a new one (provisioned by the
    tenant's policy, with ``email`` as given). Safe to call again for the same account.

    Any form of the email finds the identity (see :mod:`licensing_core.domain.emails`)."""
    for _ in range(WRITE_ATTEMPTS):
        owner = store.unique_owner(f"SUBJECT#{subject}")
        if owner is not None:
            return store.get_customer(owner)
        customer = customers.by_email(tenant, email)
        if customer is not None:
            if customer.subject is not None and customer.subject != subject:
                raise IdentityMismatch("this email belongs to another account's identity")
            try:
                store.bind_subject(customer, subject, utcnow())
            except ConcurrentChange:
                continue
            return customer
        try:
            created = create_customer(
                schemas.CustomerCreate(
                    email=email,
                    name=(name or email)[:200],
                    kind="human",
                    tenant_id=tenant,
                    subject=subject,
                    metadata=metadata or {},
                ),
                actor,
            )
        except AlreadyExists:
            continue  # created meanwhile (a racing call): read it
        return store.get_customer(created.customer_id)
    raise ConcurrentChange("the identity changed meanwhile; retry")


def on_sign_up(account: schemas.SignedUpAccount) -> CustomerRecord:
    """The identity of an account that signed up with the identity provider, created (and
    provisioned by its tenant's policy) if it has none yet."""
    return identity_for(
        account.subject,
        account.email,
        tenant=account.tenant_id or DEFAULT_TENANT,
        name=account.name,
        metadata={"source": "sign-up"},
        actor=f"{account.email} (sign-up)",
    )


def get_customer(customer_id: str) -> schemas.Customer:
    return customer_view(store.get_customer(customer_id))


def list_tenant_customers(tenant_id: str, query: schemas.PageQuery) -> schemas.CustomerPage:
    customers.existing_tenant(tenant_id)
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
    audit = audit_store.entry(
        customer_id,
        action,
        actor,
        reason=reason,
        at=now,
        details={
            "from": record.status,
            "to": to,
            "tenantId": record.tenant_id,
            "kind": record.kind,
        },
    )
    store.set_status(record, to, now, audit)
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
