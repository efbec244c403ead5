"""Identities: tenants and customers (people and service accounts)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    JSONAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from licensing_core.domain import emails, search
from licensing_core.store.base import StoredModel


class TenantRecord(StoredModel):
    logical_name = "tenants"

    class Meta:
        table_name = "tenants"
        billing_mode = "PAY_PER_REQUEST"

    tenant_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    #: What an identity created in this tenant is issued at once:
    #: ``{"product_id", "tier_id", "days"}`` (``days`` None: perpetual).
    provisioning = JSONAttribute(null=True)
    #: The license that serves this tenant (its tier's ``maxTenants`` bounds how many).
    license_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)


class CustomersByTenant(GlobalSecondaryIndex["CustomerRecord"]):
    class Meta:
        index_name = "by-tenant"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)


class CustomersByEmail(GlobalSecondaryIndex["CustomerRecord"]):
    """An address's identities, one per tenant (the email search, in any tenant)."""

    class Meta:
        index_name = "by-email"
        projection = AllProjection()

    email_key = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute(range_key=True)


class CustomersByTenantEmail(GlobalSecondaryIndex["CustomerRecord"]):
    """A tenant's identities by email key: its listing, and email prefixes (``q``)."""

    class Meta:
        index_name = "by-tenant-email"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    email_key = UnicodeAttribute(range_key=True)


class CustomersByTenantName(GlobalSecondaryIndex["CustomerRecord"]):
    """A tenant's identities by folded name: name prefixes (``q``)."""

    class Meta:
        index_name = "by-tenant-name"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    name_key = UnicodeAttribute(range_key=True)


class CustomerRecord(StoredModel):
    """An identity: a human customer or a service account, in one tenant. Its search keys
    (``email_key``, ``name_key``) are derived from its email and name whenever it is
    saved (neither changes afterwards)."""

    logical_name = "customers"

    class Meta:
        table_name = "customers"
        billing_mode = "PAY_PER_REQUEST"

    customer_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    #: As typed, for display; unique per tenant by its key (``store.identities.email_unique_key``).
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    metadata = JSONAttribute(default=dict)
    status = UnicodeAttribute(default="active")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    #: ``domain.emails.email_key(email)`` and ``domain.search.name_key(name)``.
    email_key = UnicodeAttribute(null=True)
    name_key = UnicodeAttribute(null=True)

    by_tenant = CustomersByTenant()
    by_email = CustomersByEmail()
    by_tenant_email = CustomersByTenantEmail()
    by_tenant_name = CustomersByTenantName()

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        """Every put carries the search keys of the email and name it stores."""
        self.email_key = emails.email_key(self.email)
        self.name_key = search.name_key(self.name)
        return super().serialize(null_check)
