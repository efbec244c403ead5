"""Keeping tenants apart: every id a tenant administrator names, in the path or in the
body, must belong to their tenant. One of another tenant answers exactly as an id that
does not exist (404 in the path, 422 in a body), so nothing leaks its existence.

The route table's parameter names decide what is checked: a route that takes one of
:data:`OWNED` is covered without further code; :data:`SHARED` names the catalog, which
every administrator reads; :data:`NESTED` names records reached through an owned one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from pydantic import BaseModel

from licensing_core.domain.errors import NotFound
from licensing_core.services.catalog import referenced
from licensing_core.store import identities as store
from licensing_core.store import licenses as license_store


def _tenant(tenant_id: str, tenant: str) -> None:
    if tenant_id != tenant:
        raise NotFound(f"no tenant {tenant_id}", code="TENANT_NOT_FOUND")


def _customer(customer_id: str, tenant: str) -> None:
    store.get_customer(customer_id, tenant=tenant)


def _license(license_id: str, tenant: str) -> None:
    license_store.get_license(license_id, tenant=tenant)


#: Ids of tenant-owned records (path parameter and body field names) and their checks.
OWNED: Mapping[str, Callable[[str, str], None]] = {
    "tenantId": _tenant,
    "customerId": _customer,
    "licenseId": _license,
}
#: Ids of the shared catalog, and of the public status lists (every tenant's files).
SHARED = frozenset({"productId", "tierId", "listId"})
#: Ids only reachable under an owned id in the same path (``/license-keys/{licenseId}/
#: activations/{activationId}``): the service finds them under that one.
NESTED = frozenset({"activationId"})


def require_owned(tenant: str, path: Mapping[str, str]) -> None:
    """Refuse, as missing (404), a path id of another tenant than ``tenant``."""
    for name, value in path.items():
        if name in OWNED:
            OWNED[name](value, tenant)


def require_owned_by_body(tenant: str, body: BaseModel) -> None:
    """Refuse, as a reference to nothing (422), a body (or query) id of another tenant."""
    for name, field in body_ids(type(body)).items():
        value = getattr(body, field)
        if isinstance(value, str):
            referenced(partial(OWNED[name], value, tenant), name)


def body_ids(model: type[BaseModel]) -> dict[str, str]:
    """The owned ids a request model may name: JSON (camelCase) name -> field name."""
    named = ((info.alias or field, field) for field, info in model.model_fields.items())
    return {name: field for name, field in named if name in OWNED}
