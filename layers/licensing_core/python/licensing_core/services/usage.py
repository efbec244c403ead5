"""Per-identity usage metering against the tier's quotas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from licensing_core import schemas
from licensing_core.domain.errors import Gone, QuotaExceeded, ValidationFailed
from licensing_core.domain.ids import utcnow
from licensing_core.services import activations, licenses
from licensing_core.services.catalog import ProductCatalog
from licensing_core.store import audit as audit_store
from licensing_core.store import identities as identity_store
from licensing_core.store import usage as store
from licensing_core.store.models import CustomerRecord, LicenseRecord


def period_of(kind: str, now: datetime) -> tuple[str, datetime]:
    """The counter's period key and when it ends: counters roll over by key, no job."""
    if kind == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start.strftime("%Y-%m-%d"), datetime.fromordinal(start.toordinal() + 1).replace(
            tzinfo=UTC
        )
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
    return first.strftime("%Y-%m"), following


def recent_periods(kind: str, now: datetime, count: int) -> list[str]:
    """The keys of the current period of ``kind`` and of the ``count - 1`` before it,
    newest first."""
    if kind == "day":
        return [(now.date() - timedelta(days=back)).isoformat() for back in range(count)]
    month = now.year * 12 + now.month - 1
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(month, month - count, -1)]


def _holder(body: schemas.UsageReport, now: datetime) -> tuple[LicenseRecord, CustomerRecord]:
    """The license and identity the report is for, if both are usable right now."""
    if body.key_token is not None:
        verified = licenses.verified_license(body.key_token, licenses.timestamp(now))
        return verified.license, verified.customer
    record = activations.find(body.client_id or "")
    if record.status != "active":
        raise Gone("this activation is dead: activate again", code="ACTIVATION_DEAD")
    return activations.usable(record, now)


def report(body: schemas.UsageReport) -> schemas.UsageResult:
    now = utcnow()
    license, customer = _holder(body, now)
    tier = ProductCatalog.cached(license.product_id).tier(license.tier_id)
    quota = tier.quotas.get(body.meter)
    if quota is None:
        raise ValidationFailed(
            f"the tier has no quota named {body.meter!r}",
            code="UNKNOWN_METER",
            meters=sorted(tier.quotas),
        )
    period, ends = period_of(quota.period, now)
    counter = store.Counter(
        license_id=license.license_id,
        product_id=license.product_id,
        customer_id=customer.customer_id,
        tenant_id=customer.tenant_id,
        meter=body.meter,
        period=period,
        period_ends_at=ends,
        limit=quota.limit,
    )
    try:
        used, replayed = store.add(counter, body.quantity, body.idempotency_key)
    except QuotaExceeded as refused:
        audit_store.append(  # the refusal is recorded (and published): nothing else is
            audit_store.entry(
                license.license_id,
                "quota.exceeded",
                activations.SYSTEM_ACTOR,
                at=now,
                details={
                    "customerId": customer.customer_id,
                    "tenantId": customer.tenant_id,
                    "meter": body.meter,
                    "limit": counter.limit,
                    "used": refused.extensions["used"],
                    "requested": body.quantity,
                    "periodEnd": ends.isoformat(),
                },
            )
        )
        raise
    return schemas.UsageResult(
        meter=body.meter,
        used=used,
        limit=counter.limit,
        remaining=max(counter.limit - used, 0),
        period_ends_at=ends,
        replayed=replayed,
    )


def for_customer(customer_id: str, query: schemas.UsageQuery) -> schemas.UsageList:
    identity_store.get_customer(customer_id)
    return _listed(customer_id, query.periods)


def for_caller(subject: str, query: schemas.UsageQuery) -> schemas.UsageList:
    """The usage of the identity bound to the caller's subject (none before it has one)."""
    owner = identity_store.unique_owner(f"SUBJECT#{subject}")
    return _listed(owner, query.periods) if owner is not None else schemas.UsageList(items=[])


def _listed(customer_id: str, periods: int) -> schemas.UsageList:
    """The counters of the current period and the ``periods - 1`` before it, by each
    meter's own period (months or days), newest first."""
    now = utcnow()
    months = recent_periods("month", now, periods)
    wanted = {*months, *recent_periods("day", now, periods)}
    return schemas.UsageList(
        items=[
            schemas.UsageCounter(
                license_id=r.license_id,
                meter=r.meter,
                period=r.period,
                used=int(r.used),
                limit=int(r.limit),
                period_ends_at=r.period_ends_at,
            )
            for r in store.customer_counters(customer_id, months[-1])
            if r.period in wanted
        ]
    )
