"""Identity lifecycle: deactivating an identity stops all its licenses at once."""

from __future__ import annotations

from licensing_core import schemas
from licensing_core.domain.ids import utcnow
from licensing_core.identity.provider import get_identity_provider
from licensing_core.services import activations
from licensing_core.services.catalog import customer_view
from licensing_core.store import activations as activation_store
from licensing_core.store import catalog as store
from licensing_core.store import licenses as license_store
from licensing_core.store.models import CustomerRecord
from licensing_core.store.transaction import Transaction


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
