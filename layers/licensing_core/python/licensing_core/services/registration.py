"""Self-service registration: register for a tier, claim the license after signing in,
list your licenses, and expire claims nobody took.

The flow: ``POST /register`` checks the tier is self-service, counts the attempt
against per-IP and per-email rate limits, asks the identity provider to invite the
email (an existing account is not created again, and the answer never says whether
there was one), and stores a pending claim for (email, product). The customer sets a
password at the provider, signs in, and ``POST /user/claim-license`` matches the
verified email of the caller to the claim and issues the license. Every form of one
address is that address: the limit, the invitation and the claim use its key
(:func:`~licensing_core.domain.emails.email_key`).

Exactly one license per claim, however often and concurrently it is claimed: the
claim first moves ``pending`` -> ``claiming`` with a conditional write that takes a
short lease (only one request can), then the license is issued, then the claim moves
``claiming`` -> ``fulfilled`` with the license id, conditional on the lease. A second
request sees ``claiming`` (409 ``CLAIM_IN_PROGRESS``) or ``fulfilled`` (409
``CLAIM_ALREADY_FULFILLED``, with the license id). If issuing refuses (a deactivated
identity, a step-up), the lease is released. If the function dies between issuing
and fulfilling, the lease lapses and the next claim takes it over: it finds the
license issued under the claim (``createdBy`` names the claim) and signs a fresh key
for it (superseding the undelivered one) instead of issuing a second license.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from licensing_core import schemas
from licensing_core.domain import tiers as tier_rules
from licensing_core.domain.emails import email_key
from licensing_core.domain.errors import (
    ClaimAlreadyFulfilled,
    ClaimExpired,
    ClaimInProgress,
    ConcurrentChange,
    DomainError,
    EmailNotVerified,
    Forbidden,
    IdentityMismatch,
    InvalidRequest,
    NoPendingClaim,
    NotFound,
    RegistrationUnavailable,
    TierNotSelfService,
    ValidationFailed,
)
from licensing_core.domain.ids import new_id, utcnow
from licensing_core.identity.oidc import Principal
from licensing_core.identity.provider import get_identity_provider
from licensing_core.services import identities, licenses
from licensing_core.services.catalog import ProductCatalog, offered_prices, prices
from licensing_core.settings import get_settings
from licensing_core.store import audit as audit_store
from licensing_core.store import catalog as catalog_store
from licensing_core.store import claims as store
from licensing_core.store import identities as identity_store
from licensing_core.store import licenses as license_store
from licensing_core.store import rate_limits
from licensing_core.store.models import CustomerRecord, LicenseRecord, PendingLicenseClaim

log = logging.getLogger(__name__)

#: How long a claiming request holds its claim; a lapsed lease can be taken over.
#: Far above the functions' timeout (10 s) and API Gateway's (30 s).
CLAIM_LEASE_SECONDS = 120
#: Claims the scheduled job expires per page.
EXPIRY_PAGE_SIZE = 100
EXPIRY_ACTOR = "system:expire-claims"
#: Attempts at a write that raced another request, each re-reading first.
WRITE_ATTEMPTS = 3


# The offer: what a registration page shows and a registration takes


@dataclass(frozen=True)
class Offer:
    """A self-service tier of a product, as the catalog describes it now."""

    product_id: str
    product_code: str
    product_name: str
    product_description: str | None
    tier_id: str
    tier_code: str
    tier_name: str
    tier_description: str | None
    monthly_price: int | None
    annual_price: int | None
    currency: str
    billing_periods: tuple[str, ...]
    features: tuple[str, ...]  #: names of every feature shown (display-only included)

    @property
    def prices(self) -> dict[str, int]:
        """The periods offered, each with its price (a period without one is not)."""
        stored = {"monthly": self.monthly_price, "annual": self.annual_price}
        return tier_rules.offered_prices(self.billing_periods, stored)

    @property
    def free(self) -> bool:
        return tier_rules.is_free(self.prices)


def offer(product_code: str, tier_code: str) -> Offer:
    """The self-service tier ``tier_code`` of the product ``product_code`` (codes in any
    case); 404 for an unknown product or tier, 422 for a tier not open to self-service."""
    product_id = catalog_store.find_product_id(product_code)
    if product_id is None:
        raise NotFound(f"no product {product_code!r}", code="PRODUCT_NOT_FOUND")
    found = ProductCatalog.load(product_id)
    tier = found.tier_by_code(tier_code)
    if not tier.self_service:
        raise TierNotSelfService(
            f"the {tier.name} tier cannot be registered for online; contact sales"
        )
    features = [
        found.features[key] for key in found.display_features(tier.tier_id) if key in found.features
    ]
    return Offer(
        product_id=found.product.product_id,
        product_code=found.product.code,
        product_name=found.product.name,
        product_description=found.product.description,
        tier_id=tier.tier_id,
        tier_code=tier.code,
        tier_name=tier.name,
        tier_description=tier.description,
        monthly_price=prices(tier)["monthly"],
        annual_price=prices(tier)["annual"],
        currency=tier.currency,
        billing_periods=tuple(tier.billing_periods),
        features=tuple(sorted(feature.name for feature in features)),
    )


def find_offer(product_code: str, tier_code: str) -> Offer | None:
    """The offer, or None when there is none to show (for error pages)."""
    try:
        return offer(product_code, tier_code)
    except DomainError:
        return None


# Register


@dataclass(frozen=True)
class Registered:
    accepted: schemas.RegistrationAccepted
    offer: Offer


def register(body: schemas.RegisterRequest, source_ip: str) -> Registered:
    """Rate-limit, invite, and store the pending claim (replacing an earlier claim of
    the same email and product unless it is being claimed right now)."""
    provider = get_identity_provider()
    if provider is None:
        raise RegistrationUnavailable("self-service registration is not configured")
    try:
        chosen = offer(body.product_code, body.tier_code)
    except NotFound as error:  # named in the body: a 422, not a 404
        field = "tierCode" if error.code == "TIER_NOT_FOUND" else "productCode"
        raise ValidationFailed(error.detail, code=error.code, field=field) from error
    settings = get_settings()
    now = utcnow()
    window = settings.register_window_seconds
    email = email_key(body.email)
    rate_limits.hit(
        "register#ip",
        source_ip or "unknown",
        limit=settings.register_limit_per_ip,
        window_seconds=window,
        now=now,
    )
    rate_limits.hit(
        "register#email",
        email,
        limit=settings.register_limit_per_email,
        window_seconds=window,
        now=now,
    )
    subject = provider.invite(email)
    claim = _store_claim(email, chosen, subject, now)
    return Registered(
        schemas.RegistrationAccepted(claim_id=claim.claim_id, expires_at=claim.expires_at),
        chosen,
    )


def _store_claim(email: str, chosen: Offer, subject: str, now: datetime) -> PendingLicenseClaim:
    settings = get_settings()
    expires_at = now.replace(microsecond=0) + timedelta(seconds=settings.claim_expiry_seconds)
    for _ in range(WRITE_ATTEMPTS):
        seen = store.get_claim(email, chosen.product_id)
        if seen is not None and seen.status == "claiming":
            return seen  # being claimed right now: that claim stands
        record = PendingLicenseClaim(
            email,
            chosen.product_id,
            claim_id=new_id("clm"),
            product_code=chosen.product_code,
            tier_id=chosen.tier_id,
            tier_code=chosen.tier_code,
            subject=subject or None,
            status="pending",
            expires_at=expires_at,
            created_at=now,
            updated_at=now,
            delete_after=expires_at + timedelta(seconds=settings.claim_retention_seconds),
        )
        details = {
            "email": email,
            "productId": chosen.product_id,
            "tierId": chosen.tier_id,
            "product": chosen.product_code,
            "tier": chosen.tier_code,
            "expiresAt": expires_at.isoformat(),
        }
        if seen is not None:
            details["replaces"] = seen.claim_id
        audit = audit_store.entry(record.claim_id, "claim.created", email, at=now, details=details)
        try:
            store.put_claim(record, seen, audit)
        except ConcurrentChange:
            continue
        return record
    raise ConcurrentChange("the registration raced another one; retry")


# Claim


def verified_email(principal: Principal) -> str:
    """The caller's email, as the identity provider vouches for it now (Cognito access
    tokens carry none); without an adapter, the token's ``email`` with
    ``email_verified: true`` (ID tokens). As the provider has it, not its key."""
    provider = get_identity_provider()
    if provider is not None:
        user = provider.user(principal.subject)
        if user is None or not user.enabled:
            raise Forbidden("the identity provider does not know this account", code="UNKNOWN_USER")
        email, verified = user.email, user.email_verified
    else:
        email = principal.email
        verified = principal.claims.get("email_verified") in (True, "true")
    if not email:
        raise EmailNotVerified("the account has no email address")
    if not verified:
        raise EmailNotVerified("verify your email address with the identity provider first")
    return email.strip()


def claim_license(principal: Principal, body: schemas.ClaimRequest) -> schemas.LicenseKey:
    """Issue the license of the caller's pending claim (the most recent registration,
    or the one for ``productCode``)."""
    email = verified_email(principal)
    now = utcnow()
    claim = _choose(_candidates(email_key(email), body.product_code), now)
    if claim.subject is not None and claim.subject != principal.subject:
        # Registered for another account with this email (e.g. deleted and re-created at
        # the identity provider): register again from the new account.
        raise IdentityMismatch("this claim was made for another account; register again")
    customer = identities.identity_for(
        principal.subject, email, metadata={"source": "self-service"}, actor=email
    )
    return _fulfil(claim, customer, principal, now)


def _candidates(key: str, product_code: str | None) -> list[PendingLicenseClaim]:
    found = store.claims_of(key)
    if product_code is not None:
        product_id = catalog_store.find_product_id(product_code)
        found = [claim for claim in found if claim.product_id == product_id]
    return found


def _lease_lapsed(claim: PendingLicenseClaim, now: datetime) -> bool:
    return claim.claiming_at is None or claim.claiming_at <= now - timedelta(
        seconds=CLAIM_LEASE_SECONDS
    )


def _choose(found: list[PendingLicenseClaim], now: datetime) -> PendingLicenseClaim:
    """The claim to fulfil, else the problem that explains why there is none."""
    open_ = [
        claim
        for claim in found
        if (claim.status == "pending" and claim.expires_at > now)
        or (claim.status == "claiming" and _lease_lapsed(claim, now))
    ]
    if open_:
        return max(open_, key=lambda claim: claim.created_at)
    if any(claim.status == "claiming" for claim in found):
        raise ClaimInProgress("this claim is being fulfilled by another request")
    if any(claim.status in ("pending", "expired") for claim in found):
        raise ClaimExpired("the registration expired; register again")
    fulfilled = [claim for claim in found if claim.status == "fulfilled"]
    if fulfilled:
        latest = max(fulfilled, key=lambda claim: claim.created_at)
        raise ClaimAlreadyFulfilled(
            "the license of this registration was already issued (see GET /user/licenses)",
            licenseId=latest.license_id,
        )
    raise NoPendingClaim("no registration is waiting for this account; register first")


def _actor(claim: PendingLicenseClaim) -> str:
    """Who issues a claimed license, in its ``createdBy`` and audit trail: also how a
    lapsed claim finds the license it already issued."""
    return f"{claim.email} (self-service claim {claim.claim_id})"


def _refusal(email: str, product_id: str, now: datetime) -> DomainError:
    """Why a claim we lost a race for cannot be taken now."""
    current = store.get_claim(email, product_id)
    try:
        _choose([current] if current else [], now)
    except DomainError as error:
        return error
    return ClaimInProgress("this claim is being fulfilled by another request")


def _fulfil(
    claim: PendingLicenseClaim, customer: CustomerRecord, principal: Principal, now: datetime
) -> schemas.LicenseKey:
    attempt = secrets.token_hex(8)
    taking_over = claim.status == "claiming"
    try:
        store.take(claim, attempt=attempt, customer_id=customer.customer_id, at=now)
    except ConcurrentChange:
        raise _refusal(claim.email, claim.product_id, utcnow()) from None
    try:
        key = _issue(claim, customer, principal, taking_over)
    except DomainError as refused:  # nothing was issued: the claim can be tried again
        _release(claim, attempt, refused)
        raise
    done = utcnow()
    try:
        store.fulfil(
            claim,
            attempt=attempt,
            license_id=key.license_id,
            at=done,
            audit=audit_store.entry(
                claim.claim_id,
                "claim.fulfilled",
                _actor(claim),
                at=done,
                details={
                    "licenseId": key.license_id,
                    "customerId": customer.customer_id,
                    "tenantId": customer.tenant_id,
                    "productId": claim.product_id,
                    "tierId": claim.tier_id,
                },
            ),
        )
    except ConcurrentChange:  # our lease lapsed and was taken over: that request finishes
        log.warning("claim %s: lease lost after issuing %s", claim.claim_id, key.license_id)
    return key


def _release(claim: PendingLicenseClaim, attempt: str, refused: DomainError) -> None:
    now = utcnow()
    try:
        store.release(
            claim,
            attempt=attempt,
            at=now,
            audit=audit_store.entry(
                claim.claim_id,
                "claim.released",
                _actor(claim),
                reason=refused.code,
                details={"detail": refused.detail},
                at=now,
            ),
        )
    except ConcurrentChange:  # the lease lapsed and was taken over: not ours to release
        log.warning("claim %s: lease lost before release", claim.claim_id)


def _issue(
    claim: PendingLicenseClaim,
    customer: CustomerRecord,
    principal: Principal,
    taking_over: bool,
) -> schemas.LicenseKey:
    actor = _actor(claim)
    if taking_over:
        issued = _issued_under(claim, customer.customer_id, actor)
        if issued is not None:  # issued by a request that died before fulfilling
            return licenses.regenerate(
                issued.license_id, schemas.Regenerate(revoke_previous=True), actor
            )
    tier = ProductCatalog.load(claim.product_id).tier(claim.tier_id)
    if tier_rules.is_free(offered_prices(tier)):
        expiry: dict[str, object] = {"perpetual": True}
    else:
        days = get_settings().self_service_license_days
        expiry = {"expires_at": utcnow().replace(microsecond=0) + timedelta(days=days)}
    key = licenses.issue(
        schemas.LicenseCreate.model_validate(
            {
                "product_id": claim.product_id,
                "tier_id": claim.tier_id,
                "customer_id": customer.customer_id,
                **expiry,
            }
        ),
        actor,
        principal.claims,
    )
    return schemas.LicenseKey(
        license_id=key.license_id, key_token=key.key_token, expires_at=key.expires_at
    )


def _issued_under(claim: PendingLicenseClaim, customer_id: str, actor: str) -> LicenseRecord | None:
    cursor: str | None = None
    while True:
        page, cursor = license_store.page_customer_licenses(customer_id, 100, cursor)
        for record in page:
            if record.created_by == actor and record.product_id == claim.product_id:
                return record
        if cursor is None:
            return None


# The caller's licenses


def user_licenses(principal: Principal, query: schemas.PageQuery) -> schemas.LicensePage:
    """The licenses of the identity bound to the caller's subject (none before a claim)."""
    owner = identity_store.unique_owner(f"SUBJECT#{principal.subject}")
    if owner is None:
        if query.cursor is not None:  # no listing, so no cursor of it is valid
            raise InvalidRequest("the cursor is not valid for this listing", code="INVALID_CURSOR")
        return schemas.LicensePage(items=[], next_cursor=None)
    return licenses.list_for_customer(owner, query)


# Expiry (the scheduled job)


@dataclass
class ExpiryReport:
    expired: int = 0
    #: Seen past expiry in the index but changed meanwhile (claimed, re-registered).
    skipped: int = 0
    pages: int = 0
    #: False when the job stopped for lack of time; the next run goes on.
    complete: bool = True


def expire_claims(
    *, page_size: int = EXPIRY_PAGE_SIZE, time_left: Callable[[], float] | None = None
) -> ExpiryReport:
    """Mark every pending claim past its expiry ``expired``, page by page. Each change is
    conditional on the claim still being that pending claim past expiry, so a claim
    fulfilled (or re-registered) meanwhile is never touched, and running twice, or
    twice at once, changes nothing more. Stops early when ``time_left()`` (seconds)
    runs low."""
    now = utcnow()
    report = ExpiryReport()
    start = None
    while True:
        page, start = store.pending_past_expiry(now, page_size, start)
        report.pages += 1
        for claim in page:
            if _expire(claim, now):
                report.expired += 1
            else:
                report.skipped += 1
        if start is None:
            return report
        if time_left is not None and time_left() < 10:
            report.complete = False
            return report


def _expire(claim: PendingLicenseClaim, now: datetime) -> bool:
    try:
        store.expire(
            claim,
            at=now,
            audit=audit_store.entry(
                claim.claim_id,
                "claim.expired",
                EXPIRY_ACTOR,
                at=now,
                details={
                    "email": claim.email,
                    "productId": claim.product_id,
                    "tierId": claim.tier_id,
                    "product": claim.product_code,
                    "createdAt": claim.created_at.isoformat(),
                },
            ),
        )
    except ConcurrentChange:
        return False
    return True
