"""Statistics for the console: a daily series and the standing counts of a scope (all,
a product, a tenant, a product in a tenant), read from the rollup's counters
(``services/rollup.py`` maintains them from the streams); never a scan.

``activeMachines`` is a level: machines holding a seat (activated and not deactivated;
a reclaimed seat changes hands, not the count). The rollup keeps it now (the all-time
row) and its net change per day; a day's level is the level now less the changes of
every later day.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from licensing_core import schemas
from licensing_core.domain.errors import ValidationFailed
from licensing_core.domain.ids import utcnow
from licensing_core.services.catalog import referenced
from licensing_core.services.identities import DEFAULT_TENANT
from licensing_core.services.rollup import LICENSE_STATUSES, RETENTION_DAYS
from licensing_core.store import catalog as catalog_store
from licensing_core.store import identities as identity_store
from licensing_core.store import stats as store

#: The longest series one request reads.
MAX_DAYS = 366
DEFAULT_DAYS = 30


def series(query: schemas.StatsQuery, tenant: str | None) -> schemas.StatsSeries:
    """One point per day from ``from`` to ``to`` (UTC days)."""
    product_id, tenant_id = _scope(query, tenant)
    first, last = _days(query.from_, query.to)
    totals = store.activity(store.scope_key(product_id, tenant_id), first.isoformat())
    later = sum(c["machines"] for day, c in totals.days.items() if day > last.isoformat())
    points = []
    for back in range((last - first).days + 1):
        day = last - timedelta(days=back)
        counts = totals.days.get(day.isoformat(), Counter())
        points.append(
            schemas.StatsPoint(
                date=day,
                activations=counts["activations"],
                deactivations=counts["deactivations"],
                reclaimed=counts["reclaimed"],
                issued=counts["issued"],
                revoked=counts["revoked"],
                suspended=counts["suspended"],
                active_machines=totals.machines - later,
                usage=dict(sorted(totals.usage.get(day.isoformat(), Counter()).items())),
            )
        )
        later += counts["machines"]
    return schemas.StatsSeries.model_validate(  # by alias: "from" is a keyword
        {
            "productId": product_id,
            "tenantId": tenant_id,
            "from": first,
            "to": last,
            "interval": query.interval,
            "points": points[::-1],
        }
    )


def summary(query: schemas.StatsScope, tenant: str | None) -> schemas.StatsSummary:
    """Licenses by status and tier, machines and seats now."""
    product_id, tenant_id = _scope(query, tenant)
    totals = store.standing(store.scope_key(product_id, tenant_id))
    seats = catalog_store.max_users(totals.tiers)
    by_status: Counter[str] = Counter()
    for counts in totals.tiers.values():
        by_status.update(counts)
    return schemas.StatsSummary(
        product_id=product_id,
        tenant_id=tenant_id,
        licenses=schemas.LicenseTotals(
            by_status=_statuses(by_status),
            by_tier={tier: _statuses(c) for (_, tier), c in sorted(totals.tiers.items())},
        ),
        active_machines=totals.machines,
        seats=schemas.SeatCounts(
            used=totals.machines,
            total=sum(c["active"] * seats.get(key, 0) for key, c in totals.tiers.items()),
        ),
    )


def _statuses(counts: Counter[str]) -> schemas.LicenseStatusCounts:
    return schemas.LicenseStatusCounts(**{status: counts[status] for status in LICENSE_STATUSES})


def _scope(query: schemas.StatsScope, tenant: str | None) -> tuple[str | None, str | None]:
    """The product and tenant asked for (a tenant administrator's tenant by default; the
    endpoint refuses one of another tenant), each known."""
    if query.product_id is not None:
        referenced(lambda: catalog_store.get_product(query.product_id or ""), "productId")
    tenant_id = query.tenant_id or tenant
    if query.tenant_id not in (None, tenant, DEFAULT_TENANT):
        referenced(lambda: identity_store.get_tenant(query.tenant_id or ""), "tenantId")
    return query.product_id, tenant_id


def _days(first: date | None, last: date | None) -> tuple[date, date]:
    """The range asked for, defaults filled in, within what is kept and readable."""
    today = utcnow().date()
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed("from is after to", code="INVALID_RANGE")
    if last > today:
        raise ValidationFailed(f"to is after today ({today}, UTC)", code="INVALID_RANGE")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(
            f"at most {MAX_DAYS} days at once", code="RANGE_TOO_LONG", maxDays=MAX_DAYS
        )
    oldest = today - timedelta(days=RETENTION_DAYS - 1)
    if first < oldest:
        raise ValidationFailed(
            f"days before {oldest} are no longer kept", code="RANGE_TOO_OLD", oldest=str(oldest)
        )
    return first, last
