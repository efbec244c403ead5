"""Status lists: serving them signed, and setting the bits of machine files that ended.

Serving: ``GET /status-lists/{listId}`` answers a ``statuslist+jwt`` signed with the
service's key. Its ``iat`` is the start of the current window, so unchanged bits sign
to the same token within a window (RS256 is deterministic): the ETag names the list's
version, the window and the key, a matching ``If-None-Match`` is a 304 after one small
read, and a container signs each (version, window) once.

Setting bits: the consumer of the audit stream (``routes.CONSUMERS``:
``flip_status_bits``). A committed audit record that ends an activation's files (a
deactivation, a proof, an offline renewal: ``statusEntry`` in its details) sets that
entry's bit; one that changes a license's or an identity's standing (revoked,
suspended, reinstated, deactivated, reactivated) sets or clears the bits of every live
activation of the license(s) to what their standing is *now*, so redeliveries and
reordering converge. Bits are never set in the revoking transaction itself: a license
may hold hundreds of files (a transaction holds 100 items), and every path that
changes a standing (there are several) stays as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from licensing_core.domain import offline as offline_rules
from licensing_core.domain import status_lists as rules
from licensing_core.domain.errors import DomainError, NotFound
from licensing_core.domain.ids import utcnow
from licensing_core.settings import get_settings, on_reset
from licensing_core.store import activations as activation_store
from licensing_core.store import licenses as license_store
from licensing_core.store import status_lists as store
from licensing_core.store.models import AuditRecord
from licensing_core.tokens.jws import sign_compact
from licensing_core.tokens.signer import get_signer

logger = logging.getLogger(__name__)

#: Audit actions after which a license's files are set to its current standing.
LICENSE_ACTIONS = frozenset({"license.revoked", "license.suspended", "license.reinstated"})
IDENTITY_ACTIONS = frozenset({"identity.deactivated", "identity.reactivated"})
#: How many of an identity's licenses are reconciled per page.
PAGE = 100


class Delivered(Protocol):
    """One committed audit record as the stream delivered it (``outbox.Committed``)."""

    @property
    def sequence_number(self) -> str: ...

    @property
    def audit(self) -> AuditRecord: ...


@dataclass(frozen=True)
class Served:
    """A signed list, or ``None`` when the caller's copy (its ETag) is current."""

    token: str | None
    etag: str


#: (list id, base URL) -> (etag, token): what this container signed last.
_SIGNED: dict[tuple[str, str], tuple[str, str]] = {}
on_reset(_SIGNED.clear)


def list_uri(base_url: str, list_id: str) -> str:
    """Where a list is served: its ``sub``, and the ``uri`` its files carry."""
    return f"{base_url}/status-lists/{list_id}"


def _etag(list_id: str, version: int, iat: int) -> str:
    return f'"{list_id}.{version}.{iat}.{get_signer().current.kid[:16]}"'


def serve(list_id: str, base_url: str, if_none_match: str | None) -> Served:
    """The list ``list_id`` signed now (:class:`NotFound` for a list never allocated)."""
    if not rules.is_list_id(list_id):
        raise NotFound(f"no status list {list_id}", code="STATUS_LIST_NOT_FOUND")
    version = store.version(list_id)  # one small read: all a revalidation costs
    if version is None:  # no bit ever set: does the list exist at all?
        if int(list_id) > store.allocated() // rules.LIST_CAPACITY:
            raise NotFound(f"no status list {list_id}", code="STATUS_LIST_NOT_FOUND")
        version = 0
    iat = rules.window_start(int(utcnow().timestamp()))
    etag = _etag(list_id, version, iat)
    if if_none_match is not None and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Served(None, etag)
    signed = _SIGNED.get((list_id, base_url))
    if signed is not None and signed[0] == etag:
        return Served(signed[1], etag)
    stored = store.read(list_id)
    etag = _etag(list_id, stored.version, iat)
    claims = rules.list_claims(
        list_uri(base_url, list_id),
        rules.assemble(stored.chunks),
        issuer=get_settings().issuer,
        iat=iat,
    )
    token = sign_compact(claims, typ=rules.STATUS_LIST_TYPE, signer=get_signer())
    _SIGNED[list_id, base_url] = (etag, token)
    return Served(token, etag)


def flip(batch: Sequence[Delivered]) -> Collection[str]:
    """The stream consumer: set the bits ``batch`` calls for; the sequence number of the
    first record it could not handle (storage busy: it and those after it come again)."""
    for item in batch:
        try:
            _apply(item)
        except DomainError as error:
            logger.warning("status bits of %s not set yet: %s", item.audit.action, error.code)
            return [item.sequence_number]
    return []


def _apply(item: Delivered) -> None:
    audit = item.audit
    entry = (audit.details or {}).get(offline_rules.STATUS_ENTRY_DETAIL)
    if isinstance(entry, int):
        _set({entry: True})
    if audit.action in LICENSE_ACTIONS:
        reconcile(audit.subject_id)
    elif audit.action in IDENTITY_ACTIONS:
        licenses, cursor = license_store.page_customer_licenses(audit.subject_id, PAGE, None)
        while True:
            for license in licenses:
                reconcile(license.license_id)
            if cursor is None:
                break
            licenses, cursor = license_store.page_customer_licenses(audit.subject_id, PAGE, cursor)


def reconcile(license_id: str) -> None:
    """Set the bits of a license's live activations to its standing now: revoked unless
    the license and its identity are active."""
    try:
        license = license_store.get_license(license_id)
    except NotFound:
        return
    _, customer = license_store.license_and_customer(license_id, license.customer_id)
    revoked = license.status != "active" or customer is None or customer.status != "active"
    _set(
        {
            int(activation.status_entry): revoked
            for activation in activation_store.license_activations(license_id)
            if activation.status_entry is not None
        }
    )


def _set(bits: dict[int, bool]) -> None:
    by_list: dict[str, dict[int, bool]] = {}
    for number, revoked in bits.items():
        where = rules.entry(number)
        by_list.setdefault(where.list_id, {})[where.index] = revoked
    for list_id, changes in by_list.items():
        changed = store.set_bits(list_id, changes)
        logger.info("status list %s: %d of %d bits changed", list_id, changed, len(changes))
