"""Search keys and search plans: how licenses and identities are found by what a support
desk knows about them (a product, a tier, an expiry range, an email, a name).

Pure functions over plain values. The store writes the keys below on every write of a
license or identity, and queries the index the plan names; nothing here reads storage.

License index keys. A license is in one partition of each search index: its product's
(``by-product-expiry``) and its tenant's (``by-tenant-expiry``), each split by its
stored *state* and a *shard*, sorted by expiry:

- partition ``<productId or tenantId>#<state>#<shard>``: ``state`` is ``active``,
  ``suspended``, ``revoked`` or ``superseded`` (revoked because a sibling key was
  activated); ``expired`` is not stored, it is ``active`` with an expiry before now, a
  range of the sort key; ``shard`` (0..SHARDS-1, from the license id) spreads one
  product's writes over several partitions, which the store queries in parallel;
- sort ``<expiry, second precision, UTC>#<licenseId>``: unique, so a cursor is one sort
  value; perpetual licenses sort at :data:`NEVER`, after every real expiry.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from licensing_core.domain.errors import SearchNotServed

#: Partitions per (scope, state): more spread writes thinner, and cost one query each.
SHARDS = 4
#: The sort value of a perpetual license's expiry: later than every real one.
NEVER = "9999-12-31T23:59:59Z"
#: The latest moment a search may name (its next second must still have four digits).
LATEST = datetime(9999, 12, 31, 23, 59, 58, tzinfo=UTC)
#: States kept in the index keys; ``expired`` is derived from ``active`` and the clock.
STATES = ("active", "suspended", "revoked", "superseded")
Standing = Literal["active", "suspended", "revoked", "superseded", "expired"]
STANDINGS: tuple[Standing, ...] = ("active", "suspended", "revoked", "superseded", "expired")


def state(status: str, superseded_by: str | None) -> str:
    """The stored state of a license: its status, ``superseded`` for a key revoked
    because another key of its identity and product was activated."""
    return "superseded" if status == "revoked" and superseded_by else status


def standing(status: str, superseded_by: str | None, expires_at: datetime, now: datetime) -> str:
    """What a search's ``status`` filter matches: the stored state, ``expired`` for an
    active license past its expiry (to the second, as validation decides)."""
    stored = state(status, superseded_by)
    if stored == "active" and int(expires_at.timestamp()) < int(now.timestamp()):
        return "expired"
    return stored


def shard(record_id: str) -> int:
    """A stable shard of an id, 0..SHARDS-1 (the same in every process)."""
    return hashlib.sha256(record_id.encode()).digest()[0] % SHARDS


def partition(scope_id: str, stored_state: str, shard_number: int) -> str:
    return f"{scope_id}#{stored_state}#{shard_number}"


def partitions(scope_id: str, states: Iterable[str]) -> list[str]:
    """Every partition of ``scope_id`` (a product or tenant) holding ``states``."""
    return [partition(scope_id, s, n) for s in states for n in range(SHARDS)]


def moment(value: datetime) -> str:
    """A moment as a fixed-width UTC string that sorts as time does (to the second)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ceil_second(value: datetime) -> datetime:
    """``value`` rounded up to the whole second (expiries are whole seconds)."""
    whole = value.replace(microsecond=0)
    return whole if whole == value else whole + timedelta(seconds=1)


def expiry_sort(expires_at: datetime, perpetual: bool, license_id: str) -> str:
    return f"{NEVER if perpetual else moment(expires_at)}#{license_id}"


def license_keys(
    *,
    license_id: str,
    product_id: str,
    tenant_id: str,
    status: str,
    superseded_by: str | None,
    expires_at: datetime,
    perpetual: bool,
) -> dict[str, str]:
    """The search index attributes of a license, by attribute name."""
    stored, number = state(status, superseded_by), shard(license_id)
    return {
        "search_product": partition(product_id, stored, number),
        "search_tenant": partition(tenant_id, stored, number),
        "search_expiry": expiry_sort(expires_at, perpetual, license_id),
    }


def fold(text: str) -> str:
    """Text as a case-insensitive search key: NFKC, full case folding, NFKC again, white
    space runs made one space (``Ada  LOVELACE`` and ``ada lovelace`` are one key)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())


#: Characters of a name that its search key keeps (prefix searches look no further).
NAME_KEY_LENGTH = 100


def name_key(name: str) -> str:
    """The sort key of an identity's name: folded, its first :data:`NAME_KEY_LENGTH`
    characters (never empty: index keys cannot be)."""
    return (fold(name) or name)[:NAME_KEY_LENGTH]


# Plans: which index serves a search


@dataclass(frozen=True)
class LicenseCriteria:
    """What a license search asks for, ids resolved. ``customer_ids`` None: any
    identity; empty: none (an email nobody has)."""

    now: datetime
    product_id: str | None = None
    tier_id: str | None = None
    tenant_id: str | None = None
    customer_ids: tuple[str, ...] | None = None
    standing: Standing | None = None
    expires_after: datetime | None = None
    expires_before: datetime | None = None

    def states(self) -> tuple[str, ...]:
        """The stored states the search reads."""
        if self.standing is None:
            return STATES
        return ("active",) if self.standing == "expired" else (self.standing,)

    def bounds(self) -> tuple[str | None, str | None]:
        """The sort range: an inclusive lower and an exclusive upper bound (None: open).
        Every sort value is ``<moment>#<id>``, so ``moment(T)`` as a lower bound keeps
        expiries from T on, and as an upper bound those before T."""
        lower = [moment(ceil_second(self.expires_after))] if self.expires_after else []
        upper = [moment(ceil_second(self.expires_before))] if self.expires_before else []
        now = moment(self.now.replace(microsecond=0))
        if self.standing == "active":
            lower.append(now)
        elif self.standing == "expired":
            upper.append(now)
        return max(lower, default=None), min(upper, default=None)

    def matches(
        self,
        *,
        product_id: str,
        tier_id: str,
        tenant_id: str,
        customer_id: str,
        standing_now: str,
        sort_value: str,
    ) -> bool:
        """Whether a license (as stored now) still matches: index reads trail writes, so
        what they found is checked again against the record."""
        lower, upper = self.bounds()
        return (
            self.product_id in (None, product_id)
            and self.tier_id in (None, tier_id)
            and self.tenant_id in (None, tenant_id)
            and (self.customer_ids is None or customer_id in self.customer_ids)
            and self.standing in (None, standing_now)
            and (lower is None or sort_value >= lower)
            and (upper is None or sort_value < upper)
        )


LicenseIndex = Literal["customer", "tenant", "product"]

#: What a refused search is told: the combinations some index serves.
LICENSE_COMBINATIONS = (
    "customerId or email (with any other filter)",
    "productId (with tierId, status, expiresBefore/expiresAfter, tenantId)",
    "tenantId (with productId, tierId, status, expiresBefore/expiresAfter)",
)


def license_index(criteria: LicenseCriteria, *, tenant_admin: bool) -> LicenseIndex:
    """The index a license search queries (the others are filters on it):

    1. an identity (``customerId`` or ``email``): ``by-customer``, a handful of licenses;
    2. a tenant administrator: ``by-tenant-expiry``, the tenant's own partitions;
    3. a product: ``by-product-expiry`` (tenant, tier and identity filter it);
    4. a tenant: ``by-tenant-expiry``;
    anything else would read every license: refused (:class:`SearchNotServed`).
    """
    if criteria.customer_ids is not None:
        return "customer"
    if tenant_admin:
        return "tenant"
    if criteria.product_id is not None:
        return "product"
    if criteria.tenant_id is not None:
        return "tenant"
    raise SearchNotServed(
        "a license search needs an identity, a product or a tenant to start from",
        LICENSE_COMBINATIONS,
    )


CustomerIndex = Literal["email", "tenant"]

CUSTOMER_COMBINATIONS = (
    "email (exactly, in every tenant or in tenantId; with q, status, kind)",
    "tenantId (with q, status, kind)",
)


def customer_index(*, email: str | None, tenant_id: str | None) -> CustomerIndex:
    """The index an identity search queries: ``by-email`` for an address (every form of
    it is one key), else the tenant's (``by-tenant-email``, and ``by-tenant-name`` for
    ``q``); anything else would read every identity: refused."""
    if email is not None:
        return "email"
    if tenant_id is not None:
        return "tenant"
    raise SearchNotServed(
        "an identity search needs an email or a tenant to start from", CUSTOMER_COMBINATIONS
    )
