"""Pending license claims of self-service registration."""

from __future__ import annotations

from pynamodb.attributes import (
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from licensing_core.store.base import StoredModel


class ClaimsByStatus(GlobalSecondaryIndex["PendingLicenseClaim"]):
    """Claims by status, soonest expiry first: the scheduled job's way to find pending
    claims past their expiry. Eventually consistent, which is harmless: every change it
    leads to is a conditional write on the table itself."""

    class Meta:
        index_name = "by-status-expiry"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    expires_at = UTCDateTimeAttribute(range_key=True)


class PendingLicenseClaim(StoredModel):
    """A self-service registration waiting for its customer to sign in and claim the
    license: at most one per (email, product), replaced by a newer registration.

    ``pending`` -> ``claiming`` (one request holds a short lease while it issues the
    license) -> ``fulfilled``; ``pending`` -> ``expired`` (the scheduled job, once
    ``expires_at`` passed). Every change is conditional on the status it leaves, so a
    claim is fulfilled at most once and never expired once fulfilled.
    """

    logical_name = "claims"

    class Meta:
        table_name = "claims"
        billing_mode = "PAY_PER_REQUEST"

    email = UnicodeAttribute(hash_key=True)  # its key: domain.emails.email_key
    product_id = UnicodeAttribute(range_key=True)
    claim_id = UnicodeAttribute()
    product_code = UnicodeAttribute()
    tier_id = UnicodeAttribute()
    tier_code = UnicodeAttribute()
    #: The identity provider's subject of the invited (or existing) user, when known.
    subject = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="pending")  # pending | claiming | fulfilled | expired
    expires_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    #: The lease of the request that is issuing the license (status ``claiming``).
    attempt = UnicodeAttribute(null=True)
    claiming_at = UTCDateTimeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    license_id = UnicodeAttribute(null=True)
    fulfilled_at = UTCDateTimeAttribute(null=True)
    #: Eventual deletion, long after expiry (never relied on for any decision).
    delete_after = TTLAttribute(null=True)

    by_status = ClaimsByStatus()
