"""What people do with their own licenses and machines (``/user/...``).

The caller is the identity bound to their token's subject (none before they claimed a
license). Another person's license or machine answers exactly as one that does not
exist: the same status, code and detail.
"""

from __future__ import annotations

from licensing_core import schemas
from licensing_core.domain.errors import Conflict, InvalidRequest, NotFound
from licensing_core.domain.ids import utcnow
from licensing_core.identity.oidc import Principal
from licensing_core.services import activations, licenses
from licensing_core.store import activations as activation_store
from licensing_core.store import identities as identity_store
from licensing_core.store import licenses as license_store


def identity_of(principal: Principal) -> str | None:
    """The id of the identity bound to the caller's subject, if any."""
    return identity_store.unique_owner(f"SUBJECT#{principal.subject}")


def machines(principal: Principal, query: schemas.OwnActivationQuery) -> schemas.OwnActivationPage:
    """The live machines of the caller's licenses, ``query.limit`` licenses a page."""
    owner = identity_of(principal)
    if owner is None:
        if query.cursor is not None:  # no listing, so no cursor of it is valid
            raise InvalidRequest("the cursor is not valid for this listing", code="INVALID_CURSOR")
        return schemas.OwnActivationPage(items=[])
    records, cursor = license_store.page_customer_licenses(owner, query.limit, query.cursor)
    now = utcnow()
    items = [
        schemas.OwnActivation(
            **activations.view(machine, now).model_dump(),
            license_id=record.license_id,
            product_id=record.product_id,
            product_code=record.product_code,
        )
        for record in records
        for machine in activation_store.license_activations(record.license_id)
    ]
    return schemas.OwnActivationPage(items=items, next_cursor=cursor)


def _license_ids(owner: str) -> list[str]:
    """Every license of an identity (a person holds a handful)."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        records, cursor = license_store.page_customer_licenses(owner, 100, cursor)
        ids += [record.license_id for record in records]
        if cursor is None:
            return ids


def deactivate_machine(
    principal: Principal, activation_id: str, actor: str
) -> schemas.Deactivation:
    """Free the seat one of the caller's machines holds (to move it to another)."""
    owner = identity_of(principal)
    machine = None
    if owner is not None:
        machine = activation_store.find_activation(_license_ids(owner), activation_id)
    if machine is None or machine.status != "active":
        raise NotFound(f"no activation {activation_id}", code="ACTIVATION_NOT_FOUND")
    removed = activations.remove(machine, "activation.deactivated", actor)
    return schemas.Deactivation(deactivated=removed)


def license_key(principal: Principal, license_id: str, actor: str) -> schemas.LicenseKey:
    """A fresh key of one of the caller's licenses; the keys they hold stay valid."""
    owner = identity_of(principal)
    record = license_store.get_license(license_id)
    if owner is None or record.customer_id != owner:
        raise NotFound(f"no license {license_id}", code="LICENSE_NOT_FOUND")
    if identity_store.get_customer(owner).status != "active":
        raise Conflict("the identity is deactivated", code="IDENTITY_DEACTIVATED")
    return licenses.holders_key(license_id, actor)
