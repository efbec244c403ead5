"""Proposed changes to the code under test, applied as monkeypatches so that their
gain is measured side by side with the unchanged handler (the code itself is not
edited by the benchmarks). Each cut is a context manager; caches live across calls,
as they would in a warm Lambda container."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import datetime
from typing import Any

#: A cut: a name, what it changes, and its patch.
Cut = tuple[str, str, Callable[[], AbstractContextManager[None]]]

_catalogs: dict[str, tuple[float, Any]] = {}
CATALOG_CUT = "ProductCatalog.load memoized 60 s per container: no catalog read per request"
CATALOG_TTL_SECONDS = 60.0


def _name(module: object, *candidates: str) -> str:
    """The name a function has in the code under test today (it is being refactored)."""
    for name in candidates:
        if hasattr(module, name):
            return name
    raise LookupError(f"none of {candidates} in {module!r}: update bench/cuts.py")


@contextmanager
def cached_catalog() -> Iterator[None]:
    """``ProductCatalog.load`` memoized per product for 60 s in the container, with no
    read at all per request (whatever ``load`` does today: read everything, or read the
    product's ``tiers_version`` to validate a kept copy)."""
    from licensing_core.services.catalog import ProductCatalog

    original = ProductCatalog.__dict__["load"]

    def load(cls: type[ProductCatalog], product_id: str) -> ProductCatalog:
        now = time.monotonic()
        found = _catalogs.get(product_id)
        if found is None or now - found[0] > CATALOG_TTL_SECONDS:
            found = _catalogs[product_id] = (now, original.__func__(cls, product_id))
        catalog: ProductCatalog = found[1]
        return catalog

    ProductCatalog.load = classmethod(load)  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        ProductCatalog.load = original  # type: ignore[method-assign]


@contextmanager
def optimistic_insert() -> Iterator[None]:
    """``activate`` skips ``find_machine`` before inserting: the insert transaction's
    ``attribute_not_exists`` on the machine claim already says a machine is known
    (``MachineTaken``), and the existing fallback then reads it."""
    from licensing_core.store import activations as store

    original = store.find_machine
    skipped = [False]

    def find_machine(license_id: str, machine_id: str) -> Any:
        if not skipped[0]:
            skipped[0] = True
            return None
        return original(license_id, machine_id)

    store.find_machine = find_machine
    try:
        yield
    finally:
        store.find_machine = original


@contextmanager
def one_read_heartbeat() -> Iterator[None]:
    """``heartbeat`` reads the activation and its license in one TransactGetItems (the
    license id is in the clientId) and no longer reads the customer: the token needs
    only ids the license holds, and ``store.renew``'s ConditionCheck on the customer
    already refuses a deactivated identity (its ``Stale`` path still says why)."""
    from licensing_core.domain import activations as rules
    from licensing_core.domain.errors import NotFound
    from licensing_core.services import activations as service
    from licensing_core.services import licenses
    from licensing_core.store.base import connection
    from licensing_core.store.errors import storage_errors
    from licensing_core.store.models import ActivationRecord, CustomerRecord, LicenseRecord
    from pynamodb.transactions import TransactGet

    find_name = _name(service, "find", "_find")
    usable_name = _name(service, "usable", "_usable")
    original_find, original_usable = getattr(service, find_name), getattr(service, usable_name)
    read: dict[str, LicenseRecord | None] = {}

    def find(client_id: str) -> ActivationRecord:
        license_id, activation_id = rules.parse_client_id(client_id)
        with storage_errors(), TransactGet(connection=connection()) as transaction:
            activation = transaction.get(ActivationRecord, license_id, activation_id)
            license = transaction.get(LicenseRecord, license_id)
        try:
            record = activation.get()
        except ActivationRecord.DoesNotExist:
            raise NotFound("unknown clientId: activate again", code="UNKNOWN_CLIENT") from None
        try:
            read[record.activation_id] = license.get()
        except LicenseRecord.DoesNotExist:
            read[record.activation_id] = None
        return record

    def usable(record: ActivationRecord, now: datetime) -> tuple[LicenseRecord, CustomerRecord]:
        license = read.pop(record.activation_id, None)
        if license is None:
            raise NotFound("unknown clientId: activate again", code="UNKNOWN_CLIENT")
        code = licenses.rules.standing(
            status=license.status,
            expires_at=licenses.timestamp(license.expires_at),
            token_generation=int(license.generation),
            min_generation=int(license.min_generation),
            customer_status="active",  # checked by the renew transaction
            now=licenses.timestamp(now),
        )
        if code != licenses.rules.VALID:
            raise licenses.KeyRefused(f"the license is not usable: {code.lower()}", code=code)
        customer = CustomerRecord(license.customer_id, tenant_id=license.tenant_id, status="active")
        return license, customer

    setattr(service, find_name, find)
    setattr(service, usable_name, usable)
    try:
        yield
    finally:
        setattr(service, find_name, original_find)
        setattr(service, usable_name, original_usable)


@contextmanager
def raw_jwe() -> Iterator[None]:
    """``encrypt_to`` with ``cryptography`` directly (RSA-OAEP + A256CBC-HS512, as
    ``bench.floor.jwe_encrypt``) and the machine's key object cached by JWK, instead of
    jwcrypto building a JWK and a JWE object per token."""
    from licensing_core.services import activations as service

    from bench.floor import jwe_encrypt, key_from_jwk

    original = service.encrypt_to
    keys: dict[tuple[str, str], Any] = {}

    def encrypt_to(signed_jwt: str, public_jwk: dict[str, str]) -> str:
        ref = (public_jwk["n"], public_jwk["e"])
        key = keys.get(ref)
        if key is None:
            key = keys[ref] = key_from_jwk(public_jwk)
        return jwe_encrypt(signed_jwt.encode("ascii"), key)

    service.encrypt_to = encrypt_to
    try:
        yield
    finally:
        service.encrypt_to = original


@contextmanager
def combined(*cuts: Callable[[], AbstractContextManager[None]]) -> Iterator[None]:
    with ExitStack() as stack:
        for cut in cuts:
            stack.enter_context(cut())
        yield


def cuts_for(path: str, jwe: bool) -> list[Cut]:
    """The cuts worth measuring on a path, and all of them together last. The JWE paths
    measure only what is theirs alone (the JWE cut) on top of "all cuts"; the others are
    measured on the JWS paths (the same code)."""
    if path == "activate":
        found: list[Cut] = [
            ("catalog cache", CATALOG_CUT, cached_catalog),
            ("no pre-read", "no find_machine before the insert", optimistic_insert),
        ]
    elif path == "heartbeat":
        found = [
            ("catalog cache", CATALOG_CUT, cached_catalog),
            ("one read", "activation + license in one TransactGetItems", one_read_heartbeat),
        ]
    else:
        return []
    patches = [patch for _, _, patch in found]
    names = [name for name, _, _ in found]
    if jwe:
        patches.append(raw_jwe)
        names.append("raw JWE")
        found = [("raw JWE", "encrypt_to with cryptography, key cached", raw_jwe)]
    found.append(("all cuts", " + ".join(names), lambda: combined(*patches)))
    return found
