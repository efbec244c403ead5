"""License key use cases: issue, validate, revoke, suspend, reinstate, renew,
regenerate, audit."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from licensing_core import schemas
from licensing_core.domain import licenses as rules
from licensing_core.domain import search
from licensing_core.domain.errors import (
    AlreadyExists,
    ConcurrentChange,
    Conflict,
    KeyRefused,
    LicenseNotActive,
    ValidationFailed,
)
from licensing_core.domain.ids import new_id, utcnow
from licensing_core.jose import TokenError, compact_header
from licensing_core.services.catalog import ProductCatalog, product_id_of, referenced
from licensing_core.settings import get_settings
from licensing_core.store import audit as audit_store
from licensing_core.store import identities as identity_store
from licensing_core.store import licenses as store
from licensing_core.store.identities import NewIdentity
from licensing_core.store.models import AuditRecord, CustomerRecord, LicenseRecord, TierRecord
from licensing_core.tokens.jws import sign_compact
from licensing_core.tokens.signer import get_signer
from licensing_core.tokens.verify import verify_token


def timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


def grant(record: LicenseRecord, catalog: ProductCatalog) -> rules.Grant:
    """What ``record`` grants under ``catalog``. The identity's ids are the license's own
    (an identity never changes tenant), so no identity read is needed to sign a token."""
    tier = catalog.tier(record.tier_id)
    restrictions = rules.Restrictions.from_stored(record.restrictions)
    return rules.Grant(
        license_id=record.license_id,
        product_id=record.product_id,
        product_code=catalog.product.code,
        tier_code=tier.code,
        customer_id=record.customer_id,
        tenant_id=record.tenant_id,
        expires_at=timestamp(record.expires_at),
        generation=int(record.generation),
        features=restrictions.narrow(tuple(sorted(catalog.enforced_features(tier.tier_id)))),
        max_users=int(tier.max_users),
        max_tenants=int(tier.max_tenants),
        heartbeat=tier.heartbeat,
        quotas=tier.quotas,
        step_up=tier.step_up,
        region=restrictions.region,
    )


def _sign(grant: rules.Grant) -> tuple[str, dict[str, Any], str]:
    """A key token for ``grant``: (token, its claims, its SHA-256)."""
    claims = rules.key_claims(
        grant, issuer=get_settings().issuer, now=timestamp(utcnow()), jti=secrets.token_urlsafe(16)
    )
    token = sign_compact(claims, typ=rules.LICENSE_TOKEN_TYPE, signer=get_signer())
    return token, claims, hashlib.sha256(token.encode()).hexdigest()


def view(record: LicenseRecord, now: datetime | None = None) -> schemas.License:
    """The license as the API shows it; its ``standing`` as of ``now`` (default: now)."""
    note = None
    if record.status_changed_at is not None:
        note = schemas.StatusNote(
            reason=record.status_reason, by=record.status_changed_by, at=record.status_changed_at
        )
    return schemas.License(
        license_id=record.license_id,
        product_id=record.product_id,
        product_code=record.product_code,
        tier_id=record.tier_id,
        customer_id=record.customer_id,
        tenant_id=record.tenant_id,
        status=cast(schemas.LicenseStatus, record.status),
        standing=cast(
            search.Standing,
            search.standing(
                record.status, record.superseded_by, record.expires_at, now or utcnow()
            ),
        ),
        status_note=note,
        perpetual=record.perpetual,
        expires_at=record.expires_at,
        generation=int(record.generation),
        active_seats=int(record.active_seats),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _key(record: LicenseRecord, token: str) -> schemas.LicenseKey:
    return schemas.LicenseKey(
        license_id=record.license_id, key_token=token, expires_at=record.expires_at
    )


# Issue


def issue(
    body: schemas.LicenseCreate,
    actor: str,
    auth_claims: Mapping[str, Any] | None = None,
    *,
    tenant: str | None = None,
) -> schemas.IssuedLicense:
    """Sign and store a license key; a sensitive tier demands the caller's step-up.

    The product and tier are named by id or code, the identity by id or by email in its
    tenant (``tenantId``, else the caller's ``tenant``, else the default one): an email
    without an identity gets a new one, written in the license's transaction. The
    tenant's provisioning policy does not apply to it: its license is this one."""
    now = utcnow()
    catalog = referenced(lambda: ProductCatalog.load(product_id_of(body.product_id)), "productId")
    tier = referenced(lambda: catalog.tier_of(body.tier_id), "tierId")
    if tier.sensitive:
        from licensing_core.identity import stepup  # issue only: not on validate's path

        stepup.enforce("license.issue", auth_claims or {}, now.timestamp(), sensitive_tier=True)
    if body.expires_at is not None:
        if body.expires_at <= now:
            raise ValidationFailed("expiresAt must be in the future", code="EXPIRY_IN_PAST")
        if body.expires_at > now + timedelta(seconds=rules.PERPETUAL_SECONDS):
            raise ValidationFailed("expiresAt is more than 100 years away", code="EXPIRY_TOO_FAR")
    try:
        return _issue(body, catalog, tier, tenant, actor, now)
    except AlreadyExists as error:
        if error.code != "EMAIL_TAKEN":
            raise
        # a racing request created the email's identity meanwhile: it is found now
        return _issue(body, catalog, tier, tenant, actor, now)


def _issue(
    body: schemas.LicenseCreate,
    catalog: ProductCatalog,
    tier: TierRecord,
    tenant: str | None,
    actor: str,
    now: datetime,
) -> schemas.IssuedLicense:
    customer, new_identity = _customer(body, tenant, actor, now)
    if customer.status != "active":
        raise Conflict("the identity is deactivated", code="IDENTITY_DEACTIVATED")
    record, audit, token = new_license(customer, catalog, tier, body.expires_at, actor, now)
    store.issue(record, audit, new_identity=new_identity)
    return schemas.IssuedLicense(
        license_id=record.license_id,
        key_token=token,
        expires_at=record.expires_at,
        customer_id=customer.customer_id,
        customer_created=new_identity is not None,
    )


def _customer(
    body: schemas.LicenseCreate, tenant: str | None, actor: str, now: datetime
) -> tuple[CustomerRecord, NewIdentity | None]:
    """The identity ``body`` names, and the identity to create with the license when it
    is a new one."""
    if body.customer_email is None:
        customer_id = str(body.customer_id)
        return referenced(lambda: identity_store.get_customer(customer_id), "customerId"), None
    from licensing_core.services import customers  # issue only: not on validate's path

    tenant_id = body.tenant_id or tenant or customers.DEFAULT_TENANT
    found = customers.by_email(tenant_id, body.customer_email)
    if found is not None:
        return found, None
    referenced(lambda: customers.existing_tenant(tenant_id), "tenantId")
    new = schemas.CustomerCreate(
        email=body.customer_email, name=body.customer_email[:200], tenant_id=tenant_id
    )
    identity = customers.new(new, tenant_id, actor, now)
    return identity.record, identity


def new_license(
    customer: CustomerRecord,
    catalog: ProductCatalog,
    tier: TierRecord,
    expires_at: datetime | None,
    actor: str,
    now: datetime,
) -> tuple[LicenseRecord, AuditRecord, str]:
    """A signed license for ``customer`` (``expires_at`` None: perpetual), narrowed by its
    metadata, and its audit record: for the caller to store (``store.issue``)."""
    perpetual = expires_at is None
    ends = now + timedelta(seconds=rules.PERPETUAL_SECONDS) if expires_at is None else expires_at
    record = LicenseRecord(
        new_id("lic"),
        product_id=catalog.product.product_id,
        product_code=catalog.product.code,
        tier_id=tier.tier_id,
        customer_id=customer.customer_id,
        tenant_id=customer.tenant_id,
        status="active",
        perpetual=perpetual,
        expires_at=ends.replace(microsecond=0),
        generation=1,
        min_generation=1,
        active_seats=0,
        restrictions=rules.Restrictions.of(customer.metadata).stored(),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    token, claims, digest = _sign(grant(record, catalog))
    record.issued_claims, record.issued_token_sha256 = claims, digest
    audit = audit_store.entry(
        record.license_id,
        "license.issued",
        actor,
        at=now,
        details={
            **store.license_fields(record),
            "tierId": tier.tier_id,
            "tier": tier.code,
            "expiresAt": None if perpetual else record.expires_at.isoformat(),
            "jti": claims["jti"],
        },
    )
    return record, audit, token


def get(license_id: str) -> schemas.License:
    return view(store.get_license(license_id))


def list_for_customer(customer_id: str, query: schemas.PageQuery) -> schemas.LicensePage:
    identity_store.get_customer(customer_id)
    records, cursor = store.page_customer_licenses(customer_id, query.limit, query.cursor)
    return schemas.LicensePage(items=[view(r) for r in records], next_cursor=cursor)


# Validate


@dataclass(frozen=True)
class Verified:
    """A key that verified, with its license and identity as stored right now."""

    claims: dict[str, Any]
    license: LicenseRecord
    customer: CustomerRecord


def verified_license(key_token: str, now: int, region: str | None = None) -> Verified:
    """Signature and claims first, then the database; :class:`KeyRefused` otherwise (also
    when the key is limited to a region other than ``region``, the caller's)."""
    try:
        claims = verify_token(key_token, typ=rules.LICENSE_TOKEN_TYPE, now=now)
    except TokenError as error:
        raise KeyRefused(error.detail, code=error.code) from error
    license_id, customer_id = claims["sub"], claims.get("customer")
    if not isinstance(customer_id, str) or not isinstance(claims.get("gen"), int):
        raise KeyRefused("the key's claims are incomplete", code="MALFORMED")
    record, customer = store.license_and_customer(license_id, customer_id)
    if record is None:
        raise KeyRefused("no such license", code=rules.NOT_FOUND, licenseId=license_id)
    if claims.get("aud") != record.product_code:
        raise KeyRefused(
            "the key is for another product", code=rules.WRONG_AUDIENCE, licenseId=license_id
        )
    code = rules.standing(
        status=record.status,
        expires_at=timestamp(record.expires_at),
        token_generation=claims["gen"],
        min_generation=int(record.min_generation),
        customer_status=customer.status if customer else "deactivated",
        now=now,
    )
    if code != rules.VALID or customer is None:
        raise KeyRefused(
            f"the license is not usable: {code.lower()}", code=code, licenseId=license_id
        )
    if not rules.region_allows(claims.get("region"), region):
        raise KeyRefused(
            f"the license may only be used in {claims['region']}",
            code=rules.REGION_NOT_ALLOWED,
            licenseId=license_id,
        )
    return Verified(claims, record, customer)


def idempotency_space(key_token: str, region: str | None) -> str:
    """The space of an application's idempotency keys: the license its key proves, if it
    is usable right now (so a replayed answer never outlives a revocation)."""
    return f"license:{verified_license(key_token, timestamp(utcnow()), region).license.license_id}"


def validate(body: schemas.ValidateRequest) -> schemas.Validation:
    """An invalid key is an answer, not an error, and never carries claims."""
    try:
        verified = verified_license(body.key_token, timestamp(utcnow()), body.region)
    except KeyRefused as refused:
        return schemas.Validation(
            valid=False,
            code=refused.code,
            license_id=refused.extensions.get("licenseId"),
            detail=refused.detail,
        )
    return schemas.Validation(
        valid=True,
        code=rules.VALID,
        license_id=verified.license.license_id,
        claims=verified.claims,
    )


# Status changes


class Transition(NamedTuple):
    to: str
    allowed_from: tuple[str, ...]
    action: str


#: verb -> the status it reaches, the statuses it may start from, its audit action
TRANSITIONS = {
    "revoke": Transition("revoked", ("active", "suspended"), "license.revoked"),
    "suspend": Transition("suspended", ("active",), "license.suspended"),
    "reinstate": Transition("active", ("suspended",), "license.reinstated"),
}


def _change_status(
    license_id: str, transition: Transition, actor: str, reason: str | None
) -> schemas.License:
    """Move a license to ``transition.to``; already there is a no-op that keeps the first
    record."""
    to, allowed_from, action = transition
    record = store.get_license(license_id)
    if record.status == to:
        return view(record)
    if record.status not in allowed_from:
        raise LicenseNotActive(f"the license is {record.status}", licenseStatus=record.status)
    store.change_status(record, to=to, action=action, actor=actor, reason=reason, at=utcnow())
    return view(record)


def revoke(license_id: str, body: schemas.StatusChange, actor: str) -> schemas.License:
    return _transition(license_id, "revoke", actor, body.reason)


def suspend(license_id: str, body: schemas.StatusChange, actor: str) -> schemas.License:
    return _transition(license_id, "suspend", actor, body.reason)


def reinstate(license_id: str, body: schemas.Reinstate, actor: str) -> schemas.License:
    return _transition(license_id, "reinstate", actor, body.reason)


def _transition(license_id: str, verb: str, actor: str, reason: str | None) -> schemas.License:
    try:
        return _change_status(license_id, TRANSITIONS[verb], actor, reason)
    except ConcurrentChange:  # someone changed it between our read and write: decide again
        return _change_status(license_id, TRANSITIONS[verb], actor, reason)


# New tokens for an existing license


def _reissue(
    license_id: str,
    actor: str,
    *,
    action: str,
    expires_at: datetime | None = None,
    revoke_previous: bool = False,
) -> schemas.LicenseKey:
    """Sign a key from the current database state and record it, only if the license is
    still active and nobody reissued it meanwhile (so a racing revoke wins)."""
    record = store.get_license(license_id)
    if record.status != "active":
        raise LicenseNotActive(f"the license is {record.status}", licenseStatus=record.status)
    catalog = ProductCatalog.load(record.product_id)
    previous_expiry = None if record.perpetual else record.expires_at.isoformat()
    seen_generation = int(record.generation)
    record.generation = seen_generation + 1
    if revoke_previous:
        record.min_generation = record.generation
    if expires_at is not None:
        record.expires_at = expires_at
    token, claims, digest = _sign(grant(record, catalog))
    now = utcnow()
    record.issued_claims, record.issued_token_sha256, record.updated_at = claims, digest, now
    store.reissue(
        record,
        seen_generation,
        audit_store.entry(
            license_id,
            action,
            actor,
            at=now,
            details={
                **store.license_fields(record),
                "generation": record.generation,
                "revokePrevious": revoke_previous,
                "previousExpiresAt": previous_expiry,
                "expiresAt": None if record.perpetual else record.expires_at.isoformat(),
                "jti": claims["jti"],
            },
        ),
    )
    return _key(record, token)


def regenerate(license_id: str, body: schemas.Regenerate, actor: str) -> schemas.LicenseKey:
    return _reissue(
        license_id, actor, action="license.regenerated", revoke_previous=body.revoke_previous
    )


def holders_key(license_id: str, actor: str) -> schemas.LicenseKey:
    """A fresh key for the license's holder: signed from the database as a regeneration
    is, and recorded as one, but keeping every key they already hold valid (a holder
    fetching their key again must not break their other machines)."""
    return _reissue(license_id, actor, action="license.regenerated")


def renew(license_id: str, body: schemas.Renew, actor: str) -> schemas.LicenseKey:
    record = store.get_license(license_id)
    expires_at = body.expires_at.replace(microsecond=0)
    if record.perpetual:
        raise ValidationFailed("a perpetual license needs no renewal", code="LICENSE_PERPETUAL")
    if expires_at <= max(record.expires_at, utcnow()):
        raise ValidationFailed(
            "expiresAt must be later than both now and the current expiry", code="EXPIRY_NOT_LATER"
        )
    return _reissue(license_id, actor, action="license.renewed", expires_at=expires_at)


# Audit


def audit(license_id: str, body: schemas.AuditRequest) -> schemas.AuditReport:
    """Compare a token's claims (default: the last key issued) with what the database
    would issue now."""
    record = store.get_license(license_id)
    if body.token is not None and body.token.count(".") == 4:
        _check_machine_jwe(body.token)
        return schemas.AuditReport(status="encrypted", differences=[])
    in_token = record.issued_claims
    if body.token is not None:
        try:
            in_token = verify_token(
                body.token, typ=rules.LICENSE_TOKEN_TYPE, now=timestamp(utcnow())
            )
        except TokenError as error:
            raise ValidationFailed(f"token: {error.detail}", code=error.code) from error
        if in_token["sub"] != license_id:
            raise ValidationFailed("the token belongs to another license", code="TOKEN_MISMATCH")
    catalog = ProductCatalog.load(record.product_id)
    differences = rules.differences(in_token, grant(record, catalog).claims())
    if record.status != "active":
        differences.append({"claim": "status", "inToken": "active", "expected": record.status})
    return schemas.AuditReport(
        status="drift" if differences else "consistent",
        differences=[schemas.Difference.model_validate(d) for d in differences],
    )


def _check_machine_jwe(token: str) -> None:
    """An encrypted token is one of ours only if its header says so: anything else with
    five segments is not a token."""
    from licensing_core.tokens.jwe import CONTENT_ALGORITHM, KEY_ALGORITHM  # audit only

    try:
        header = compact_header(token, max_bytes=get_settings().max_token_bytes, segments=5)
    except TokenError as error:
        raise ValidationFailed(f"token: {error.detail}", code=error.code) from error
    if (header.get("alg"), header.get("enc")) != (KEY_ALGORITHM, CONTENT_ALGORITHM):
        raise ValidationFailed("token: not an encrypted machine token", code="MALFORMED")


def history(license_id: str, query: schemas.PageQuery) -> schemas.History:
    store.get_license(license_id)
    records, cursor = store.history(license_id, query.limit, query.cursor)
    return schemas.History(
        items=[
            schemas.HistoryEntry(
                action=r.action, actor=r.actor, reason=r.reason, details=r.details, at=r.at
            )
            for r in records
        ],
        next_cursor=cursor,
    )
