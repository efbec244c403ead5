"""Activation use cases: activate (seats, dead-seat reclamation), heartbeat, deactivate."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from licensing_core import schemas, telemetry
from licensing_core.domain import activations as rules
from licensing_core.domain import offline
from licensing_core.domain.errors import Conflict, Gone, KeyRefused, NotFound, SeatLimitReached
from licensing_core.domain.ids import utcnow
from licensing_core.domain.licenses import ACTIVATION_TOKEN_TYPE, key_claims
from licensing_core.services import licenses
from licensing_core.services.catalog import ProductCatalog
from licensing_core.settings import get_settings
from licensing_core.store import activations as store
from licensing_core.store import audit as audit_store
from licensing_core.store import licenses as license_store
from licensing_core.store.catalog import Unique
from licensing_core.store.models import ActivationRecord, CustomerRecord, LicenseRecord
from licensing_core.tokens.jwe import encrypt_to, machine_key
from licensing_core.tokens.jws import sign_compact
from licensing_core.tokens.signer import get_signer

#: How many dead seats one activation tries before giving up (racers take some).
RECLAIM_ATTEMPTS = 3
#: Sibling keys revoked by one activation at most (a transaction holds 100 items).
MAX_SIBLINGS = 40
#: Who acts when an application calls with its license key or clientId (EVENTS.md).
SYSTEM_ACTOR = "application"
#: What a machine says of itself at activation; a re-activation brings newer values (an
#: upgraded application), keeping those it does not send.
MACHINE_DETAILS = ("hostname", "platform", "app_version", "name")


@dataclass(frozen=True)
class Activated:
    activation: schemas.Activation
    created: bool


@dataclass(frozen=True)
class _Signed:
    """A machine token signed for one client id, not yet sealed to a machine's key."""

    client_id: str
    jws: str
    expires_at: datetime
    next_heartbeat_at: datetime

    def sealed(self, public_key: dict[str, str] | None) -> schemas.MachineToken:
        """The token as the machine gets it: encrypted to its key when it registered one."""
        return schemas.MachineToken(
            token=encrypt_to(self.jws, public_key) if public_key else self.jws,
            token_type="jwe" if public_key else "jws",
            expires_at=self.expires_at,
            next_heartbeat_at=self.next_heartbeat_at,
        )


def _machine_token(
    client_id: str,
    machine_id: str,
    license: LicenseRecord,
    catalog: ProductCatalog,
    now: datetime,
) -> _Signed:
    """A fresh short-lived token from the current database state."""
    grant = licenses.grant(license, catalog)
    ttl = grant.heartbeat.ttl_seconds
    claims = rules.machine_claims(
        key_claims(
            grant,
            issuer=get_settings().issuer,
            now=licenses.timestamp(now),
            jti=secrets.token_urlsafe(16),
        ),
        client_id=client_id,
        machine_id=machine_id,
        now=licenses.timestamp(now),
        ttl_seconds=ttl,
    )
    return _Signed(
        client_id,
        sign_compact(claims, typ=ACTIVATION_TOKEN_TYPE, signer=get_signer()),
        datetime.fromtimestamp(claims["exp"], now.tzinfo),
        now + timedelta(seconds=grant.heartbeat.interval_seconds),
    )


def _activation(
    token: schemas.MachineToken, record: ActivationRecord, client_id: str
) -> schemas.Activation:
    return schemas.Activation(
        **token.model_dump(), activation_id=record.activation_id, client_id=client_id
    )


def activate(body: schemas.ActivateRequest, *, source_ip: str, user_agent: str) -> Activated:
    """Activate a machine. Nothing is written before every input is proven usable: the
    key verified, the machine's public key test-used, the token signed and sealed, so a
    refused request (or a failing signer) holds no seat."""
    now = utcnow()
    license = licenses.verified_license(
        body.key_token, licenses.timestamp(now), body.region
    ).license
    if body.product is not None and body.product != license.product_code:
        raise KeyRefused("the key is for another product", code="WRONG_AUDIENCE")
    public_key = None
    if body.public_key is not None:
        raw = body.public_key if isinstance(body.public_key, str) else body.public_key.model_dump()
        public_key = machine_key(raw)
    catalog = ProductCatalog.cached(license.product_id)
    tier = catalog.tier(license.tier_id)
    signed = _machine_token(
        rules.new_client_id(license.license_id), body.machine_id, license, catalog, now
    )
    token = signed.sealed(public_key)
    record = ActivationRecord(
        license.license_id,
        rules.activation_id_of(signed.client_id),
        customer_id=license.customer_id,
        machine_id=body.machine_id,
        public_key=public_key,
        source_ip=source_ip[:64] or None,
        user_agent=user_agent[:512] or None,
        **_details(body),
        ttl_seconds=tier.heartbeat.ttl_seconds,
        activated_at=now,
        last_heartbeat_at=now,
        heartbeats=0,
    )
    audit = audit_store.entry(
        license.license_id,
        "activation.created",
        SYSTEM_ACTOR,
        at=now,
        details={
            **license_store.license_fields(license),
            "activationId": record.activation_id,
            "machineId": body.machine_id,
            "seatsUsed": int(license.active_seats) + 1,
            "maxUsers": int(tier.max_users),
        },
    )
    siblings = sibling_revocations(license, now)
    try:
        store.insert(record, license, int(tier.max_users), audit, revoke=siblings)
    except store.MachineTaken:  # a known machine (or one racing itself): one seat, one answer
        existing = store.find_machine(license.license_id, body.machine_id)
        if existing is None:
            raise Conflict(
                "the machine's activation changed meanwhile; retry", code="CONCURRENT_CHANGE"
            ) from None
        return Activated(_reactivate(existing, signed, public_key, _details(body), now), False)
    except store.NoSeat:
        take_dead_seat(record, license, int(tier.max_users), now, revoke=siblings)
    return Activated(_activation(token, record, signed.client_id), True)


def _details(body: schemas.ActivateRequest) -> dict[str, Any]:
    return {name: getattr(body, name) for name in MACHINE_DETAILS}


def _reactivate(
    record: ActivationRecord,
    signed: _Signed,
    public_key: dict[str, str] | None,
    details: dict[str, Any],
    now: datetime,
) -> schemas.Activation:
    """The machine already holds a seat. Only a hash of its client id is stored, so it
    gets the new one ``signed`` is for: the activation is swapped for a renewed one
    (revived if it was dead) in one conditional write, keeping its seat; the old client
    id stops working. The token is sealed to the machine's key before that write."""
    license_id = record.license_id
    for _ in range(RECLAIM_ATTEMPTS):
        fresh = ActivationRecord(
            license_id,
            rules.activation_id_of(signed.client_id),
            **{name: getattr(record, name) for name in _KEPT_ON_RENEWAL},
            **{name: details[name] or getattr(record, name) for name in MACHINE_DETAILS},
            public_key=public_key or record.public_key,
            last_heartbeat_at=now,
        )
        token = signed.sealed(fresh.public_key)
        audit = audit_store.entry(
            license_id,
            "activation.renewed",
            SYSTEM_ACTOR,
            at=now,
            details={
                "activationId": fresh.activation_id,
                "previous": record.activation_id,
                "machineId": record.machine_id,
            },
        )
        try:
            store.swap(record, fresh, audit)
        except store.NoSeat:
            raise KeyRefused("the license is not active", code="REVOKED") from None
        except (store.Stale, store.MachineTaken):
            current = store.find_machine(license_id, record.machine_id)
            if current is None:
                break
            record = current  # the same machine raced itself: renew the winner's record
            continue
        return _activation(token, fresh, signed.client_id)
    raise Conflict("the machine's activation changed meanwhile; retry", code="CONCURRENT_CHANGE")


_KEPT_ON_RENEWAL = (
    "customer_id",
    "machine_id",
    "source_ip",
    "user_agent",
    "ttl_seconds",
    "activated_at",
    "heartbeats",
    *offline.KEPT_ON_RENEWAL,
)


def take_dead_seat(
    record: ActivationRecord,
    license: LicenseRecord,
    max_users: int,
    now: datetime,
    *,
    revoke: license_store.Supersession,
    nonce: Unique | None = None,
) -> None:
    """At the seat limit, hand the seat of a machine that stopped heartbeating to this
    one (with the revocations of ``revoke`` and the claim of ``nonce``); each swap is
    conditional, so two racers never reclaim the same seat."""
    fresh = license_store.get_license(license.license_id)
    if fresh.status != "active":
        raise KeyRefused(f"the license is {fresh.status}", code=fresh.status.upper())
    dead = sorted(
        (
            a
            for a in store.license_activations(license.license_id)
            if rules.is_dead(a.last_heartbeat_at, int(a.ttl_seconds), now, a.offline_until)
        ),
        key=lambda a: a.last_heartbeat_at,
    )
    for candidate in dead[:RECLAIM_ATTEMPTS]:
        audit = audit_store.entry(
            license.license_id,
            "activation.reclaimed",
            SYSTEM_ACTOR,
            at=now,
            details={
                **license_store.license_fields(license),
                "activationId": candidate.activation_id,
                "machineId": candidate.machine_id,
                "reclaimedBy": record.activation_id,
                "reclaimedByMachineId": record.machine_id,
                "lastHeartbeatAt": candidate.last_heartbeat_at.isoformat(),
            },
        )
        try:
            store.swap(candidate, record, audit, revoke=revoke, nonce=nonce)
            return
        except store.Stale:
            continue  # it heartbeated, or another racer took it: try the next one
        except store.MachineTaken:
            raise Conflict(
                "the machine's activation changed meanwhile; retry", code="CONCURRENT_CHANGE"
            ) from None
    audit_store.append(  # the refusal is recorded (and published): nothing else is
        audit_store.entry(
            license.license_id,
            "seat.limit_reached",
            SYSTEM_ACTOR,
            at=now,
            details={
                **license_store.license_fields(license),
                "maxUsers": max_users,
                "machineId": record.machine_id,
            },
        )
    )
    raise SeatLimitReached(f"all {max_users} seats of this license are in use", maxUsers=max_users)


def sibling_revocations(license: LicenseRecord, now: datetime) -> license_store.Supersession:
    """One active key per customer and product: activating this key revokes the others,
    in the same transaction as the seat."""
    siblings, _ = license_store.page_customer_licenses(license.customer_id, MAX_SIBLINGS, None)
    revoked = [
        sibling
        for sibling in siblings
        if sibling.license_id != license.license_id
        and sibling.product_id == license.product_id
        and sibling.status == "active"
    ]
    return license_store.Supersession(revoked, by=license.license_id, actor=SYSTEM_ACTOR, at=now)


def find(client_id: str) -> ActivationRecord:
    license_id, activation_id = rules.parse_client_id(client_id)
    record = store.get_activation(license_id, activation_id)
    if record is None:
        raise NotFound("unknown clientId: activate again", code="UNKNOWN_CLIENT")
    return record


def heartbeat(body: schemas.HeartbeatRequest) -> schemas.MachineToken:
    """A fresh token, only while the activation lives and the license and its identity
    are usable: the token is returned only if the conditional write that records it
    succeeded. One read (activation and license) before it: the identity is checked by
    that write alone, so a refusal is explained by reading everything again."""
    now = utcnow()
    record, license = store.activation_and_license(*rules.parse_client_id(body.client_id))
    if record is None:
        raise NotFound("unknown clientId: activate again", code="UNKNOWN_CLIENT")
    if record.status != "active" or rules.is_dead(
        record.last_heartbeat_at, int(record.ttl_seconds), now, record.offline_until
    ):
        raise Gone(
            "this activation missed its heartbeats and is dead: activate again",
            code="ACTIVATION_DEAD",
        )
    license = _usable_license(license, "active", now)  # the identity: checked by the write
    catalog = ProductCatalog.cached(license.product_id)
    token = _machine_token(body.client_id, record.machine_id, license, catalog, now).sealed(
        record.public_key
    )
    try:
        store.renew(
            record,
            now=now,
            alive_since=now - timedelta(seconds=int(record.ttl_seconds)),
        )
    except store.Stale:  # revoked, deactivated or reclaimed meanwhile: say which
        usable(find(body.client_id), now)
        raise Gone("this activation is dead: activate again", code="ACTIVATION_DEAD") from None
    telemetry.count(telemetry.Metric.HEARTBEATS)
    return token


def usable(record: ActivationRecord, now: datetime) -> tuple[LicenseRecord, CustomerRecord]:
    """The license and identity behind an activation, if both are usable right now."""
    license, customer = license_store.license_and_customer(record.license_id, record.customer_id)
    status = customer.status if customer else "deactivated"
    # A missing identity is refused as a deactivated one: ``customer`` is set past this.
    return _usable_license(license, status, now), cast(CustomerRecord, customer)


def _usable_license(
    license: LicenseRecord | None, identity_status: str, now: datetime
) -> LicenseRecord:
    """``license`` if it is usable right now for an identity in ``identity_status``."""
    if license is None:
        raise NotFound("unknown clientId: activate again", code="UNKNOWN_CLIENT")
    code = licenses.rules.standing(
        status=license.status,
        expires_at=licenses.timestamp(license.expires_at),
        token_generation=int(license.generation),
        min_generation=int(license.min_generation),
        customer_status=identity_status,
        now=licenses.timestamp(now),
    )
    if code != licenses.rules.VALID:
        raise KeyRefused(f"the license is not usable: {code.lower()}", code=code)
    return license


def deactivate(body: schemas.DeactivateRequest) -> schemas.Deactivation:
    """Free the machine's seat; a second call frees nothing more."""
    try:
        record = find(body.client_id)
    except NotFound:
        return schemas.Deactivation(deactivated=False)
    return schemas.Deactivation(deactivated=remove(record, "activation.deactivated", SYSTEM_ACTOR))


def remove(record: ActivationRecord, action: str, actor: str) -> bool:
    license = license_store.get_license(record.license_id)
    audit = audit_store.entry(
        record.license_id,
        action,
        actor,
        details={
            **license_store.license_fields(license),
            "activationId": record.activation_id,
            "machineId": record.machine_id,
            "seatsUsed": max(int(license.active_seats) - 1, 0),
            **offline.status_details(record.status_entry),
        },
    )
    return store.remove(record, license, audit)


def view(a: ActivationRecord, now: datetime) -> schemas.ActivationView:
    """An activation as administrators and its license's holder see it."""
    return schemas.ActivationView(
        activation_id=a.activation_id,
        machine_id=a.machine_id,
        encrypted=a.public_key is not None,
        source_ip=a.source_ip,
        user_agent=a.user_agent,
        **{name: getattr(a, name) for name in MACHINE_DETAILS},
        activated_at=a.activated_at,
        last_heartbeat_at=a.last_heartbeat_at,
        heartbeats=int(a.heartbeats),
        dead=rules.is_dead(a.last_heartbeat_at, int(a.ttl_seconds), now, a.offline_until),
        offline_until=a.offline_until,
    )


def list_for_license(license_id: str) -> schemas.ActivationList:
    license = license_store.get_license(license_id)
    tier = ProductCatalog.load(license.product_id).tier(license.tier_id)
    now = utcnow()
    return schemas.ActivationList(
        items=[view(a, now) for a in store.license_activations(license_id)],
        active_seats=int(license.active_seats),
        max_users=int(tier.max_users),
    )


def force_deactivate(license_id: str, activation_id: str, actor: str) -> schemas.Deactivation:
    record = store.get_activation(license_id, activation_id)
    if record is None:
        raise NotFound(
            f"no activation {activation_id} on license {license_id}", code="ACTIVATION_NOT_FOUND"
        )
    return schemas.Deactivation(deactivated=remove(record, "activation.deactivated", actor))
