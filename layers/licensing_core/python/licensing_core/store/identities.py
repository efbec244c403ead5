"""Repository functions of identities and their tenants.

An identity claims its email (per tenant, by its key) and its identity-provider subject
(globally) in the transaction that creates it, so two identities never share either.
Every write is one transaction with its audit record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from licensing_core.domain.emails import email_key
from licensing_core.domain.errors import AlreadyExists, DomainError
from licensing_core.store.base import get_record
from licensing_core.store.catalog import claim
from licensing_core.store.errors import storage_errors
from licensing_core.store.models import (
    AuditRecord,
    CustomerRecord,
    LicenseRecord,
    TenantRecord,
    UniqueRecord,
)
from licensing_core.store.pages import page
from licensing_core.store.transaction import Transaction

# Tenants


@dataclass(frozen=True)
class Serving:
    """A license that serves one more tenant, within ``limit`` (its tier's
    ``maxTenants``); ``refused`` is raised when it serves that many already."""

    license: LicenseRecord
    limit: int
    refused: DomainError


def insert_tenant(tenant: TenantRecord, audit: AuditRecord, served_by: Serving | None) -> None:
    """Store a new tenant with its audit record, counting it against ``served_by`` (while
    that license is active and under its limit) in the same transaction."""
    transaction = Transaction()
    if served_by is not None:
        served = LicenseRecord.tenants_served
        transaction.update(
            served_by.license,
            [served.add(1)],
            (LicenseRecord.status == "active")
            & (served.does_not_exist() | (served < served_by.limit)),
            meaning=served_by.refused,
        )
    transaction.save(
        tenant,
        condition=TenantRecord.tenant_id.does_not_exist(),
        meaning=AlreadyExists("tenant exists", code="TENANT_EXISTS"),
    )
    transaction.save(audit)
    transaction.run()


def get_tenant(tenant_id: str) -> TenantRecord:
    return get_record(TenantRecord, tenant_id, code="TENANT_NOT_FOUND", what="tenant")


# Identities


@dataclass(frozen=True)
class NewIdentity:
    """An identity to create, and its ``identity.created`` audit record."""

    record: CustomerRecord
    audit: AuditRecord


def email_unique_key(tenant_id: str, email: str) -> str:
    """Emails are unique per tenant by their key (:func:`email_key`): every form of one
    address is one identity. The key is derived from the stored email, as typed."""
    return f"EMAIL#{tenant_id}#{email_key(email)}"


def add_identity(transaction: Transaction, identity: NewIdentity) -> None:
    """Add a new identity to ``transaction`` (for the store's functions that create one
    with what it comes with), claiming its email and subject, with its audit record."""
    customer = identity.record
    transaction.save(customer, condition=CustomerRecord.customer_id.does_not_exist())
    email = email_unique_key(customer.tenant_id, customer.email)
    taken = AlreadyExists("an identity with this email exists in the tenant", code="EMAIL_TAKEN")
    claim(transaction, email, customer.customer_id, taken)
    if customer.subject:
        taken = AlreadyExists("an identity with this subject exists", code="SUBJECT_TAKEN")
        claim(transaction, f"SUBJECT#{customer.subject}", customer.customer_id, taken)
    transaction.save(identity.audit)


def insert_identity(identity: NewIdentity) -> None:
    """Store a new identity (``AlreadyExists`` when its email or subject is taken)."""
    transaction = Transaction()
    add_identity(transaction, identity)
    transaction.run()


def set_status(record: CustomerRecord, to: str, at: datetime, audit: AuditRecord) -> None:
    """Move the identity to status ``to`` only if it still has the status it was read
    with (else ``ConcurrentChange``), with its audit record; ``record`` reflects it."""
    transaction = Transaction()
    transaction.update(
        record,
        [CustomerRecord.status.set(to), CustomerRecord.updated_at.set(at)],
        CustomerRecord.status == record.status,
    )
    transaction.save(audit)
    transaction.run()
    record.status, record.updated_at = to, at


def unique_owner(key: str) -> str | None:
    """Who holds a unique value (``SUBJECT#...``, ``EMAIL#<tenant>#...``), if anyone."""
    with storage_errors():
        try:
            return str(UniqueRecord.get(key, consistent_read=True).owner)
        except UniqueRecord.DoesNotExist:
            return None


def bind_subject(customer: CustomerRecord, subject: str, at: datetime) -> None:
    """Give an identity without one its identity-provider subject, claiming the subject in
    the same transaction (which fails if either happened meanwhile)."""
    transaction = Transaction()
    transaction.update(
        customer,
        [CustomerRecord.subject.set(subject), CustomerRecord.updated_at.set(at)],
        CustomerRecord.subject.does_not_exist() & (CustomerRecord.status == customer.status),
    )
    transaction.save(
        UniqueRecord(f"SUBJECT#{subject}", owner=customer.customer_id),
        condition=UniqueRecord.key.does_not_exist(),
    )
    transaction.run()
    customer.subject, customer.updated_at = subject, at


def get_customer(customer_id: str, *, tenant: str | None = None) -> CustomerRecord:
    return get_record(
        CustomerRecord, customer_id, code="CUSTOMER_NOT_FOUND", what="customer", tenant=tenant
    )


def page_customers(
    tenant_id: str, limit: int, cursor: str | None
) -> tuple[list[CustomerRecord], str | None]:
    return page(
        lambda start: CustomerRecord.by_tenant.query(
            tenant_id, limit=limit, page_size=limit, last_evaluated_key=start
        ),
        {"customer_id", "tenant_id"},
        cursor,
    )
