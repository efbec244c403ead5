"""What a tenant holds, read from the tables' ``by-tenant`` indexes (eventually
consistent: for summaries, never for decisions)."""

from __future__ import annotations

from collections.abc import Iterator

from licensing_core.store.errors import storage_errors
from licensing_core.store.models import CustomerRecord, LicenseRecord, UsageRecord


def customers(tenant_id: str) -> Iterator[CustomerRecord]:
    with storage_errors():
        yield from CustomerRecord.by_tenant.query(
            tenant_id, attributes_to_get=["customer_id", "status", "kind"]
        )


def licenses(tenant_id: str) -> Iterator[LicenseRecord]:
    """The tenant's licenses, with only their status, expiry and product."""
    with storage_errors():
        yield from LicenseRecord.by_tenant.query(tenant_id)


def usage(tenant_id: str, period_prefix: str) -> Iterator[UsageRecord]:
    """The tenant's usage counters of the periods starting with ``period_prefix`` (a
    month: its monthly counter and its days'), with only their meter and count."""
    with storage_errors():
        yield from UsageRecord.by_tenant.query(
            tenant_id, UsageRecord.usage_key.startswith(period_prefix)
        )
