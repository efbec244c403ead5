"""Offline use cases: machine files (checkout, borrow), offline activation by a signed
request, and seats handed back by a signed proof.

A machine file is the license signed for one machine (``typ: machine-file+jwt``),
encrypted to the machine's key when the activation has one, valid until the tier's
policy and the license allow, and carrying its status list entry. It holds its
activation's seat until it expires (``ActivationRecord.offline_until``), or until a
proof signed by the machine's key frees the seat. As for online activation, nothing is
written before every input is proven usable: the request verified, its key parsed and
test-used, the license usable, the file signed and sealed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from licensing_core import schemas
from licensing_core.domain import activations as activation_rules
from licensing_core.domain import offline as rules
from licensing_core.domain import status_lists
from licensing_core.domain.errors import (
    Conflict,
    Gone,
    KeyRefused,
    MachineKeyRequired,
    NonceReused,
    NotBorrowed,
    RequestRefused,
    StaleRequest,
)
from licensing_core.domain.ids import utcnow
from licensing_core.domain.licenses import key_claims
from licensing_core.domain.policies import OfflinePolicy
from licensing_core.jose import TokenError
from licensing_core.services import activations, licenses
from licensing_core.services.catalog import ProductCatalog
from licensing_core.services.status_lists import list_uri
from licensing_core.settings import get_settings
from licensing_core.store import activations as activation_store
from licensing_core.store import audit as audit_store
from licensing_core.store import licenses as license_store
from licensing_core.store import offline as store
from licensing_core.store import status_lists as status_store
from licensing_core.store.catalog import Unique
from licensing_core.store.models import ActivationRecord, LicenseRecord
from licensing_core.tokens.jwe import encrypt_to
from licensing_core.tokens.jws import sign_compact
from licensing_core.tokens.machine_signed import unverified_claims, verify_proof, verify_request
from licensing_core.tokens.signer import get_signer

_NONCE = re.compile(r"^[\x21-\x7e]{16,128}$")
_ACTIVATION_ID = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class _File:
    """A machine file signed and sealed, not yet recorded."""

    answer: schemas.MachineFile
    expires_at: datetime


def _machine_file(
    license: LicenseRecord,
    catalog: ProductCatalog,
    *,
    activation_id: str,
    machine_id: str,
    mode: rules.Mode,
    entry: int,
    ttl_seconds: int,
    public_key: dict[str, str] | None,
    base_url: str,
    now: datetime,
) -> _File:
    where = status_lists.entry(entry)
    stamp = licenses.timestamp(now)
    claims = rules.file_claims(
        key_claims(
            licenses.grant(license, catalog),
            issuer=get_settings().issuer,
            now=stamp,
            jti=secrets.token_urlsafe(16),
        ),
        activation_id=activation_id,
        machine_id=machine_id,
        mode=mode,
        now=stamp,
        expires_at=rules.file_expiry(stamp, ttl_seconds, licenses.timestamp(license.expires_at)),
        status=status_lists.reference(list_uri(base_url, where.list_id), where.index),
    )
    signed = sign_compact(claims, typ=rules.MACHINE_FILE_TYPE, signer=get_signer())
    expires_at = datetime.fromtimestamp(claims["exp"], now.tzinfo)
    answer = schemas.MachineFile(
        activation_id=activation_id,
        machine_file=encrypt_to(signed, public_key) if public_key else signed,
        file_type="jwe" if public_key else "jws",
        mode=mode,
        expires_at=expires_at,
    )
    return _File(answer, expires_at)


# Files for an online activation: checkout and borrow


def checkout(body: schemas.CheckoutRequest, base_url: str) -> schemas.MachineFile:
    """A machine file for an online activation, valid for ``ttlSeconds`` (the tier's
    default when absent, never above its maximum nor beyond the license)."""
    return _file_for(
        body.client_id,
        "checkout",
        lambda policy: rules.file_ttl(policy, body.ttl_seconds),
        base_url,
    )


def borrow(body: schemas.BorrowRequest, base_url: str) -> schemas.MachineFile:
    """Borrow the activation's seat for offline use: a machine file valid for ``seconds``
    (at most the tier's ``maxBorrowSeconds``); the seat is taken until then, or until a
    return proof hands it back. The activation needs a machine key (proofs are signed
    with it)."""
    return _file_for(
        body.client_id,
        "borrow",
        lambda policy: rules.borrow_seconds(policy, body.seconds),
        base_url,
    )


def _file_for(
    client_id: str, mode: rules.Mode, ttl_of: Callable[[OfflinePolicy], int], base_url: str
) -> schemas.MachineFile:
    now = utcnow()
    record = activations.find(client_id)
    if record.status != "active" or activation_rules.is_dead(
        record.last_heartbeat_at, int(record.ttl_seconds), now, record.offline_until
    ):
        raise Gone("this activation is dead: activate again", code="ACTIVATION_DEAD")
    if mode == "borrow" and record.public_key is None:
        raise MachineKeyRequired(
            "borrowing needs an activation with a machine key: the seat is returned with a "
            "proof signed by it (activate with publicKey)"
        )
    license, _ = activations.usable(record, now)
    catalog = ProductCatalog.cached(license.product_id)
    ttl = ttl_of(catalog.tier(license.tier_id).offline)
    entry = status_store.allocate() if record.status_entry is None else int(record.status_entry)
    file = _machine_file(
        license,
        catalog,
        activation_id=record.activation_id,
        machine_id=record.machine_id,
        mode=mode,
        entry=entry,
        ttl_seconds=ttl,
        public_key=record.public_key,
        base_url=base_url,
        now=now,
    )
    audit = audit_store.entry(
        license.license_id,
        f"activation.{'borrowed' if mode == 'borrow' else 'checked_out'}",
        activations.SYSTEM_ACTOR,
        at=now,
        details={
            **license_store.license_fields(license),
            "activationId": record.activation_id,
            "machineId": record.machine_id,
            "expiresAt": file.expires_at.isoformat(),
        },
    )
    try:
        store.hold(
            record,
            until=rules.held_until(record.offline_until, file.expires_at),
            mode=mode,
            entry=entry,
            now=now,
            alive_since=now - timedelta(seconds=int(record.ttl_seconds)),
            audit=audit,
        )
    except activation_store.Stale:  # revoked, deactivated, reclaimed or raced: say which
        activations.usable(activations.find(client_id), now)
        raise Conflict(
            "the activation changed meanwhile; retry", code="CONCURRENT_CHANGE"
        ) from None
    return file.answer


# Offline activation


@dataclass(frozen=True)
class _Request:
    """A verified offline activation request."""

    key_token: str
    machine_id: str
    nonce: str
    product: str
    region: str | None
    public_key: dict[str, str]


def _verified_request(token: str, now: int) -> _Request:
    try:
        claims, key = verify_request(token, typ=rules.ACTIVATION_REQUEST_TYPE)
    except TokenError as error:
        raise RequestRefused(f"request: {error.detail}", code=error.code) from error
    iat = claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise RequestRefused("request: iat must be a whole number of seconds")
    if iat > now + get_settings().leeway_seconds:
        raise StaleRequest("the request was written in the future: check the machine's clock")
    if iat < now - rules.MAX_REQUEST_AGE_SECONDS:
        raise StaleRequest(
            f"the request is older than {rules.MAX_REQUEST_AGE_SECONDS // 86_400} days: "
            "write a new one",
            maxAgeSeconds=rules.MAX_REQUEST_AGE_SECONDS,
        )
    key_token, machine_id, nonce, product = (
        claims.get(name) for name in ("licenseKey", "machineId", "nonce", "aud")
    )
    region = claims.get("region")
    if not (
        isinstance(key_token, str)
        and isinstance(machine_id, str)
        and isinstance(nonce, str)
        and isinstance(product, str)
        and isinstance(region, str | None)
    ):
        raise RequestRefused("request: licenseKey, machineId, nonce and aud are strings")
    if not activation_rules.MACHINE_ID.match(machine_id):
        raise RequestRefused("request: machineId is 1 to 256 printable ASCII characters")
    if not _NONCE.match(nonce):
        raise RequestRefused("request: nonce is 16 to 128 printable ASCII characters")
    return _Request(key_token, machine_id, nonce, product, region, key)


def idempotency_space(body: schemas.OfflineActivationRequest) -> str:
    """Whose ``Idempotency-Key`` space a submission is in: the license its request proves
    (so the one who carries a request can retry its submission and get the same file,
    while the request itself, without the key, is accepted once)."""
    request = _verified_request(body.request, licenses.timestamp(utcnow()))
    return licenses.idempotency_space(request.key_token, request.region)


def activate(
    body: schemas.OfflineActivationRequest, base_url: str, *, source_ip: str, user_agent: str
) -> schemas.MachineFile:
    """Take a seat for a machine that has no connectivity, from the request it wrote, and
    answer its machine file; checked as an online activation (seats, sibling revocation,
    identity, region), plus the request's signature, age and nonce. The same machine
    activating again renews its activation: its seat is kept, its older files end."""
    now = utcnow()
    request = _verified_request(body.request, licenses.timestamp(now))
    license = licenses.verified_license(
        request.key_token, licenses.timestamp(now), request.region
    ).license
    if request.product != license.product_code:
        raise KeyRefused("the request is for another product", code="WRONG_AUDIENCE")
    catalog = ProductCatalog.cached(license.product_id)
    tier = catalog.tier(license.tier_id)
    ttl = rules.file_ttl(tier.offline, body.ttl_seconds)
    if store.nonce_seen(license.license_id, request.nonce):
        raise NonceReused("this request was submitted already: write a new one")
    existing = activation_store.find_machine(license.license_id, request.machine_id)
    activation_id = activation_rules.activation_id_of(
        activation_rules.new_client_id(license.license_id)
    )
    entry = status_store.allocate()
    file = _machine_file(
        license,
        catalog,
        activation_id=activation_id,
        machine_id=request.machine_id,
        mode="offline",
        entry=entry,
        ttl_seconds=ttl,
        public_key=request.public_key,
        base_url=base_url,
        now=now,
    )
    record = ActivationRecord(
        license.license_id,
        activation_id,
        customer_id=license.customer_id,
        machine_id=request.machine_id,
        public_key=request.public_key,
        source_ip=source_ip[:64] or None,
        user_agent=user_agent[:512] or None,
        ttl_seconds=tier.heartbeat.ttl_seconds,
        activated_at=now,
        last_heartbeat_at=now,
        heartbeats=0,
        offline_until=file.expires_at,
        offline_mode="offline",
        status_entry=entry,
    )
    siblings = activations.sibling_revocations(license, now)
    nonce = store.nonce_claim(
        license.license_id,
        request.nonce,
        activation_id,
        NonceReused("this request was submitted already: write a new one"),
    )
    if existing is None:
        _take_seat(record, license, int(tier.max_users), now, siblings, nonce)
    else:
        _renew(existing, record, license, now, siblings, nonce)
    return file.answer


def _take_seat(
    record: ActivationRecord,
    license: LicenseRecord,
    max_users: int,
    now: datetime,
    siblings: license_store.Supersession,
    nonce: Unique,
) -> None:
    audit = audit_store.entry(
        license.license_id,
        "activation.created",
        activations.SYSTEM_ACTOR,
        at=now,
        details={
            **license_store.license_fields(license),
            "activationId": record.activation_id,
            "machineId": record.machine_id,
            "seatsUsed": int(license.active_seats) + 1,
            "maxUsers": max_users,
            "mode": "offline",
        },
    )
    try:
        activation_store.insert(record, license, max_users, audit, revoke=siblings, nonce=nonce)
    except activation_store.MachineTaken:
        raise Conflict(
            "the machine's activation changed meanwhile; retry", code="CONCURRENT_CHANGE"
        ) from None
    except activation_store.NoSeat:
        activations.take_dead_seat(record, license, max_users, now, revoke=siblings, nonce=nonce)


def _renew(
    existing: ActivationRecord,
    record: ActivationRecord,
    license: LicenseRecord,
    now: datetime,
    siblings: license_store.Supersession,
    nonce: Unique,
) -> None:
    """The machine holds a seat already: the new activation takes it over, and the files
    of the old one end (its status entry is in the audit record)."""
    audit = audit_store.entry(
        license.license_id,
        "activation.renewed",
        activations.SYSTEM_ACTOR,
        at=now,
        details={
            "activationId": record.activation_id,
            "previous": existing.activation_id,
            "machineId": record.machine_id,
            "mode": "offline",
            **rules.status_details(existing.status_entry),
        },
    )
    try:
        activation_store.swap(existing, record, audit, revoke=siblings, nonce=nonce)
    except activation_store.NoSeat:
        raise KeyRefused("the license is not active", code="REVOKED") from None
    except (activation_store.Stale, activation_store.MachineTaken):
        raise Conflict(
            "the machine's activation changed meanwhile; retry", code="CONCURRENT_CHANGE"
        ) from None


# Seats handed back by proof


def deactivate(body: schemas.SeatProof) -> schemas.Deactivation:
    """Free the seat of the activation whose machine key signed the proof; a second
    submission frees nothing more."""
    return _release(body.proof, rules.DEACTIVATION_PROOF_TYPE, borrowed_only=False)


def return_seat(body: schemas.SeatProof) -> schemas.Deactivation:
    """Hand a borrowed seat back before the borrow ends."""
    return _release(body.proof, rules.RETURN_PROOF_TYPE, borrowed_only=True)


def _release(proof: str, typ: str, *, borrowed_only: bool) -> schemas.Deactivation:
    now = utcnow()
    try:
        claims = unverified_claims(proof, typ=typ)
    except TokenError as error:
        raise RequestRefused(f"proof: {error.detail}", code=error.code) from error
    license_id, activation_id = claims.get("sub"), claims.get("activationId")
    if not isinstance(license_id, str) or not isinstance(activation_id, str):
        raise RequestRefused("proof: sub (the license) and activationId are strings")
    if not _ACTIVATION_ID.match(activation_id) or len(license_id) > 128:
        raise RequestRefused("proof: activationId is not an activation id")
    record = activation_store.get_activation(license_id, activation_id)
    if record is None or record.status != "active":
        return schemas.Deactivation(deactivated=False)
    if record.public_key is None:
        raise MachineKeyRequired("this activation has no machine key: no proof can free it")
    try:
        verified = verify_proof(proof, typ=typ, key=cast(dict[str, str], record.public_key))
    except TokenError as error:
        raise RequestRefused(f"proof: {error.detail}", code=error.code) from error
    iat = verified.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise RequestRefused("proof: iat must be a whole number of seconds")
    if iat > licenses.timestamp(now) + get_settings().leeway_seconds:
        raise StaleRequest("the proof was written in the future: check the machine's clock")
    if borrowed_only and record.offline_mode != "borrow":
        raise NotBorrowed("this activation did not borrow its seat: deactivate it instead")
    return schemas.Deactivation(
        deactivated=activations.remove(record, "activation.deactivated", activations.SYSTEM_ACTOR)
    )
