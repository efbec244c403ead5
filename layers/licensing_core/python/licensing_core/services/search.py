"""The operator's search: licenses by product, tier, standing, identity, tenant and
expiry (``GET /license-keys``), identities by email, prefix, status and kind
(``GET /customers``). Which index serves which filters is decided in
``domain/search``; the queries are in ``store/search``.

A tenant administrator's searches are always within their tenant (another tenant
answers as a tenant without records).
"""

from __future__ import annotations

from licensing_core import schemas
from licensing_core.domain import search as rules
from licensing_core.domain.emails import email_key
from licensing_core.domain.errors import NotFound, SearchNotServed, ValidationFailed
from licensing_core.domain.ids import is_catalog_id, utcnow
from licensing_core.services import identities, licenses
from licensing_core.services.catalog import ProductCatalog, product_id_of, referenced
from licensing_core.store import identities as identity_store
from licensing_core.store import search as store


def _tier_id(product_id: str | None, reference: str) -> str:
    """A tier's id from its id, or from its code in ``product_id`` (any case); an id
    alone is a filter (it matches nothing when no tier has it)."""
    if product_id is not None:
        tier = referenced(lambda: ProductCatalog.cached(product_id).tier_of(reference), "tierId")
        return str(tier.tier_id)
    if not is_catalog_id(reference):
        raise ValidationFailed(
            "tierId: a tier code names a tier of a product: give productId too",
            field="tierId",
        )
    return reference


def _scoped(requested: str | None, tenant: str | None) -> tuple[str | None, bool]:
    """The tenant a search reads, and whether it can find anything: a tenant
    administrator's own tenant, whatever they name."""
    if tenant is None:
        return requested, True
    return tenant, requested in (None, tenant)


def _owned(customer_id: str, tenant: str) -> bool:
    try:
        identity_store.get_customer(customer_id, tenant=tenant)
    except NotFound:
        return False
    return True


def find_licenses(query: schemas.LicenseSearch, *, tenant: str | None) -> schemas.LicensePage:
    """A page of licenses matching every filter, soonest expiry first (by identity:
    by license id), each as ``GET /license-keys/{licenseId}`` shows it."""
    cursor = store.LicenseCursor.decode(query.cursor)
    now = cursor.moment if cursor else utcnow().replace(microsecond=0)
    tenant_id, reachable = _scoped(query.tenant_id, tenant)
    product_id = None
    if query.product_id is not None:
        product_id = referenced(lambda: product_id_of(str(query.product_id)), "productId")
    customer_ids = None
    if query.email is not None:
        found = store.identities_with_email(email_key(query.email), tenant_id)
        if found is None:
            raise SearchNotServed(
                f"this address has identities in more than {store.MAX_EMAIL_IDENTITIES} "
                "tenants: name one",
                ("email with tenantId",),
            )
        customer_ids = tuple(c.customer_id for c in found)
    if query.customer_id is not None:
        if tenant is not None and not _owned(query.customer_id, tenant):
            reachable = False
        candidates = (query.customer_id,) if customer_ids is None else customer_ids
        customer_ids = tuple(c for c in candidates if c == query.customer_id)
    criteria = rules.LicenseCriteria(
        now=now,
        product_id=product_id,
        tier_id=None if query.tier_id is None else _tier_id(product_id, query.tier_id),
        tenant_id=tenant_id,
        customer_ids=customer_ids,
        standing=query.status,
        expires_after=query.expires_after,
        expires_before=query.expires_before,
    )
    index = rules.license_index(criteria, tenant_admin=tenant is not None)
    if not reachable:
        return schemas.LicensePage(items=[])
    records, after = store.licenses_page(
        criteria,
        index,
        scope=product_id if index == "product" else tenant_id,
        after=cursor.after if cursor else None,
        limit=query.limit,
    )
    return schemas.LicensePage(
        items=[licenses.view(record, now) for record in records],
        next_cursor=None
        if after is None
        else store.LicenseCursor(after, int(now.timestamp())).encode(),
    )


def find_customers(query: schemas.CustomerSearch, *, tenant: str | None) -> schemas.CustomerPage:
    """A page of identities: by email key (in every tenant or one), else a tenant's by
    email key, then by name for ``q`` (each identity once)."""
    cursor = store.CustomerCursor.decode(query.cursor)
    tenant_id, reachable = _scoped(query.tenant_id, tenant)
    key = None if query.email is None else email_key(query.email)
    rules.customer_index(email=key, tenant_id=tenant_id)
    if not reachable:
        return schemas.CustomerPage(items=[])
    records, following = store.customers_page(
        email_key=key,
        tenant_id=tenant_id,
        prefix=None if query.q is None else rules.fold(query.q) or query.q,
        status=query.status,
        kind=query.kind,
        cursor=cursor,
        limit=query.limit,
    )
    return schemas.CustomerPage(
        items=[identities.customer_view(record) for record in records],
        next_cursor=None if following is None else following.encode(),
    )
