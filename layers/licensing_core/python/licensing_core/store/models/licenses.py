"""Licenses, with the indexes that find them."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection

from licensing_core.domain import search
from licensing_core.store.base import StoredModel


class LicensesByCustomer(GlobalSecondaryIndex["LicenseRecord"]):
    class Meta:
        index_name = "by-customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    license_id = UnicodeAttribute(range_key=True)


class LicensesByTenant(GlobalSecondaryIndex["LicenseRecord"]):
    """A tenant's licenses for its summary. Projects only attributes that change with a
    license's status, so seat changes never write this index."""

    class Meta:
        index_name = "by-tenant"
        projection = IncludeProjection(["status", "expires_at", "product_id"])

    tenant_id = UnicodeAttribute(hash_key=True)
    license_id = UnicodeAttribute(range_key=True)


#: What the license searches filter on, beside their keys. Seat counts are not projected,
#: so activations never write these indexes (see ``LicensesByTenant``).
_SEARCH_FILTERS = ["product_id", "tier_id", "customer_id", "tenant_id"]


class LicensesByProductExpiry(GlobalSecondaryIndex["LicenseRecord"]):
    """A product's licenses by state and shard, soonest expiry first (``domain/search``)."""

    class Meta:
        index_name = "by-product-expiry"
        projection = IncludeProjection(_SEARCH_FILTERS)

    search_product = UnicodeAttribute(hash_key=True)
    search_expiry = UnicodeAttribute(range_key=True)


class LicensesByTenantExpiry(GlobalSecondaryIndex["LicenseRecord"]):
    """A tenant's licenses by state and shard, soonest expiry first (``domain/search``)."""

    class Meta:
        index_name = "by-tenant-expiry"
        projection = IncludeProjection(_SEARCH_FILTERS)

    search_tenant = UnicodeAttribute(hash_key=True)
    search_expiry = UnicodeAttribute(range_key=True)


class LicenseRecord(StoredModel):
    """A license key: who holds what, until when, and the claims last issued for it. Its
    search keys (``search_*``) are derived from its ids, state and expiry whenever it is
    saved, and set by every update that changes those (:meth:`search_actions`)."""

    logical_name = "licenses"

    class Meta:
        table_name = "licenses"
        billing_mode = "PAY_PER_REQUEST"

    license_id = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute()
    product_code = UnicodeAttribute()
    tier_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    status = UnicodeAttribute(default="active")  # active | suspended | revoked
    perpetual = BooleanAttribute(default=False)
    expires_at = UTCDateTimeAttribute()
    #: Bumped by every regeneration; tokens of a generation below ``min_generation``
    #: are superseded.
    generation = NumberAttribute(default=1)
    min_generation = NumberAttribute(default=1)
    issued_claims = JSONAttribute()
    #: How the identity's metadata narrows the license (domain ``Restrictions``), fixed at
    #: issue: tokens signed later (heartbeats, regenerations) need no identity read.
    restrictions = JSONAttribute(null=True)
    issued_token_sha256 = UnicodeAttribute()
    #: Active machine activations: only ever changed in the same transaction as one.
    active_seats = NumberAttribute(default=0)
    #: Tenants this license serves (``TenantRecord.license_id``), at most the tier's
    #: ``maxTenants``: only ever changed in the same transaction as a tenant.
    tenants_served = NumberAttribute(default=0)
    status_reason = UnicodeAttribute(null=True)
    status_changed_by = UnicodeAttribute(null=True)
    status_changed_at = UTCDateTimeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    #: The license whose activation revoked this one (one active key per identity and
    #: product): its state is ``superseded``.
    superseded_by = UnicodeAttribute(null=True)
    search_product = UnicodeAttribute(null=True)
    search_tenant = UnicodeAttribute(null=True)
    search_expiry = UnicodeAttribute(null=True)

    by_customer = LicensesByCustomer()
    by_tenant = LicensesByTenant()
    by_product_expiry = LicensesByProductExpiry()
    by_tenant_expiry = LicensesByTenantExpiry()

    def search_keys(self) -> dict[str, str]:
        """The search index attributes of the license as it is now, by attribute name."""
        return search.license_keys(
            license_id=self.license_id,
            product_id=self.product_id,
            tenant_id=self.tenant_id,
            status=self.status,
            superseded_by=self.superseded_by,
            expires_at=self.expires_at,
            perpetual=self.perpetual,
        )

    def search_actions(self) -> list[Action]:
        """Update actions setting the search keys to the license's current fields: for
        every update that changes its status, supersession or expiry."""
        attributes = self.get_attributes()
        return [attributes[name].set(value) for name, value in self.search_keys().items()]

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        """Every put carries the search keys of what it stores."""
        for name, value in self.search_keys().items():
            setattr(self, name, value)
        return super().serialize(null_check)
