"""Identity records, for every use case that finds or creates identities: creating one
(``POST /customers``, sign-up, a claim) and issuing a license to an email.

An identity is found by email through its tenant's uniqueness record of the email's key
(``store/identities.email_unique_key``, the one rule of ``domain/emails``). A new one
is built with its audit record for the store to create, alone or with what it comes
with (its license), in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from licensing_core import schemas
from licensing_core.domain.ids import new_id
from licensing_core.store import audit as audit_store
from licensing_core.store import identities as store
from licensing_core.store.identities import NewIdentity
from licensing_core.store.models import CustomerRecord, TenantRecord

#: Identities created without a tenant belong to this one (it needs no record).
DEFAULT_TENANT = "default"


def existing_tenant(tenant_id: str) -> TenantRecord | None:
    """The tenant's record (the default tenant has none); a missing one is refused."""
    return None if tenant_id == DEFAULT_TENANT else store.get_tenant(tenant_id)


def by_email(tenant_id: str, email: str) -> CustomerRecord | None:
    """The identity of ``email``, in any of its forms, in ``tenant_id`` (never another)."""
    owner = store.unique_owner(store.email_unique_key(tenant_id, email))
    return None if owner is None else store.get_customer(owner)


def new(body: schemas.CustomerCreate, tenant_id: str, actor: str, now: datetime) -> NewIdentity:
    """A new active identity of ``body`` in ``tenant_id``, with its ``identity.created``
    record (not stored yet)."""
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
    audit = audit_store.entry(
        record.customer_id,
        "identity.created",
        actor,
        at=now,
        details={"tenantId": tenant_id, "kind": body.kind},
    )
    return NewIdentity(record, audit)
