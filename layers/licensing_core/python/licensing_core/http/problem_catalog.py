"""Every problem code the service answers: its title, status and what it means.

The one place a code is described. Problem bodies take their ``title`` from here and
point their ``type`` at ``/problems/<slug>``, a page generated from the entry
(:mod:`licensing_core.http.problem_pages`). A test scans the source for codes and
fails when one has no entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ProblemType:
    title: str
    #: The status it comes with; a code some paths answer with another status lists both.
    statuses: tuple[int, ...]
    #: One paragraph for the person reading the problem: what happened, what to do.
    explanation: str


def slug(code: str) -> str:
    """``SEAT_LIMIT_REACHED`` -> ``seat-limit-reached``."""
    return code.lower().replace("_", "-")


def _p(title: str, *statuses: int, explanation: str) -> ProblemType:
    return ProblemType(title, statuses, " ".join(explanation.split()))


_HELD = "license key or machine token"

# fmt: off
CATALOG: Mapping[str, ProblemType] = {
    # The request itself
    "INVALID_REQUEST": _p("Invalid request", 400, 505, explanation="""
        The request cannot be processed as sent: its request line, HTTP version, framing, a
        path or query parameter, or the combination of its fields is not valid for this
        operation. Correct the request; sending it again unchanged fails the same way."""),
    "MALFORMED_BODY": _p("Malformed body", 400, explanation="""
        The body was announced as base64-encoded but is not valid base64, so it could not
        be read at all. Send the body as it is meant to be read."""),
    "MALFORMED_JSON": _p("Malformed JSON", 400, explanation="""
        The body is not a JSON object: it does not parse, nests too deeply, or is an array
        or a scalar. Send one JSON object encoded as UTF-8."""),
    "DUPLICATE_MEMBER": _p("Duplicate member", 400, explanation="""
        A JSON object in the body names the same member twice. Parsers disagree on which of
        the two counts, so the service refuses both; send each member once."""),
    "MALFORMED_FORM": _p("Malformed form", 400, explanation="""
        The URL-encoded form body is not valid UTF-8, has too many fields, or repeats a
        field. Send each field of the form once."""),
    "UNSUPPORTED_MEDIA_TYPE": _p("Unsupported media type", 415, explanation="""
        The body's Content-Type is not one this operation reads. Send the body as
        application/json (registration also takes an HTML form post)."""),
    "PAYLOAD_TOO_LARGE": _p("Payload too large", 413, explanation="""
        The body is larger than this API accepts; the problem's maxBytes member, where
        present, says the limit. Nothing was read or written: send a smaller body."""),
    "VALIDATION_FAILED": _p("Validation failed", 422, explanation="""
        The body or query parsed, but its content breaks the operation's schema or one of
        its rules. The errors member lists each offending field with its path and a message;
        nothing was written. Correct those fields and send the request again."""),
    "INVALID_CURSOR": _p("Invalid cursor", 400, explanation="""
        The pagination cursor was not issued by this listing (or was altered). Pass the
        nextCursor of the previous page unchanged, or start again without a cursor."""),
    "SEARCH_NOT_SERVED": _p("Search not served", 422, explanation="""
        No index serves this combination of filters: answering it would read every record.
        The combinations member lists those that work (an identity, a product or a tenant
        to start from); add one of them and send the search again."""),
    "INVALID_IDEMPOTENCY_KEY": _p("Invalid idempotency key", 400, explanation="""
        The Idempotency-Key header must be 1 to 128 printable ASCII characters. Generate
        one key per logical operation, for example a UUID."""),
    "IDEMPOTENCY_KEY_REUSED": _p("Idempotency key reused", 422, explanation="""
        This Idempotency-Key already answered a request with another body (or, for usage
        reports, another meter or quantity). Use a new key for a new operation; repeat a key
        only to retry exactly the same request."""),
    "REQUEST_IN_PROGRESS": _p("Request in progress", 409, explanation="""
        A request with this Idempotency-Key is still running. Wait the Retry-After seconds
        and retry: you then get the first request's answer."""),
    # Who is calling
    "MISSING_TOKEN": _p("Bearer token required", 401, explanation="""
        This operation needs an OIDC bearer token in the Authorization header
        (Authorization: Bearer <token>). Sign in with the identity provider and send the
        token it issues."""),
    "INVALID_TOKEN": _p("Invalid bearer token", 401, explanation="""
        The bearer token did not verify: it is malformed, expired, signed by an unknown key,
        issued by another issuer or meant for another client. The WWW-Authenticate header
        says why; sign in again to get a fresh token."""),
    "STEP_UP_REQUIRED": _p("Stronger authentication required", 401, explanation="""
        The token is valid but its sign-in is too weak or too old for this action (RFC 9470).
        The WWW-Authenticate header names the acr_values and max_age to meet: sign in again
        with that method (for example with multi-factor authentication) and retry."""),
    "FORBIDDEN": _p("Forbidden", 403, explanation="""
        The caller is authenticated but may not perform this action. Ask an administrator
        for the access it needs."""),
    "NOT_AN_ADMIN": _p("Not an administrator", 403, explanation="""
        This action is for administrators: the token carries neither the administrator group
        nor the administrator scope of a service account."""),
    "NOT_A_PLATFORM_ADMIN": _p("Platform administrator required", 403, explanation="""
        Tenant administrators manage their own tenant only; this action (the catalog, other
        tenants) needs a platform administrator."""),
    "NO_TENANT_CLAIM": _p("Tenant claim missing", 403, explanation="""
        A tenant administrator's token must name its tenant (the tenant claim, or
        custom:tenant in Amazon Cognito). Have the identity provider add the claim."""),
    "READ_ONLY": _p("Read-only token", 403, explanation="""
        This token may only read (the read scope); the action changes something. Use a
        token with the administrator scope."""),
    "HUMAN_ONLY": _p("People only", 403, explanation="""
        This action needs a person who signed in, not a service account: either the route
        is for people, or it needs a recent, strong sign-in that client-credentials tokens
        cannot prove."""),
    "UNKNOWN_USER": _p("Unknown account", 403, explanation="""
        The identity provider does not know the account the token was issued to (it was
        deleted or belongs to another user pool). Sign in again with an existing account."""),
    "EMAIL_NOT_VERIFIED": _p("Email not verified", 403, explanation="""
        Claiming a license needs an account whose email address the identity provider has
        verified. Verify it there (follow the provider's email), then claim again."""),
    "IDENTITY_MISMATCH": _p("Identity mismatch", 403, explanation="""
        This claim was made for another account than the one signed in. Sign in with the
        account that registered, or register again with this one."""),
    "SUBJECT_NOT_ALLOWED": _p("Account binding not allowed", 403, explanation="""
        Only a platform administrator may bind an identity to an identity-provider account;
        otherwise the account is bound when its owner signs up or claims a license."""),
    # Things that do not exist, or exist already
    "NOT_FOUND": _p("Not found", 404, 403, explanation="""
        The resource does not exist, or is not visible to the caller (ids of another tenant
        answer the same way). A license key whose license does not exist is refused with this
        code and status 403."""),
    "PRODUCT_NOT_FOUND": _p("Product not found", 404, 422, explanation="""
        No product has this id or code (status 404 in the path; 422 when a body names it).
        List the products to find the right one."""),
    "TIER_NOT_FOUND": _p("Tier not found", 404, 422, explanation="""
        The product has no tier with this id or code (status 404 in the path; 422 when a
        body names it). List the product's tiers to find the right one."""),
    "CUSTOMER_NOT_FOUND": _p("Identity not found", 404, 422, explanation="""
        No identity (customer or service account) has this id in the caller's tenants
        (status 404 in the path; 422 when a body names it)."""),
    "TENANT_NOT_FOUND": _p("Tenant not found", 404, 422, explanation="""
        No tenant has this id, or the caller may not see it (status 404 in the path; 422
        when a body names it)."""),
    "LICENSE_NOT_FOUND": _p("License not found", 404, 422, explanation="""
        No license has this id in the caller's tenants (status 404 in the path; 422 when a
        body names it)."""),
    "ACTIVATION_NOT_FOUND": _p("Activation not found", 404, explanation="""
        The license has no activation with this id. List the license's activations to find
        the machine."""),
    "UNKNOWN_CLIENT": _p("Unknown client", 404, explanation="""
        No activation has this clientId: the machine was deactivated or never activated.
        Activate the machine again with its license key."""),
    "NO_PENDING_CLAIM": _p("No pending claim", 404, explanation="""
        The signed-in account has no pending registration to claim (for this product). Register
        first, then claim the license."""),
    "ALREADY_EXISTS": _p("Already exists", 409, explanation="""
        Something with the same identifying value exists already; the request created
        nothing. Read the existing one instead, or choose another value."""),
    "PRODUCT_CODE_TAKEN": _p("Product code taken", 409, explanation="""
        Another product uses this code; product codes are unique. Choose another code."""),
    "TIER_CODE_TAKEN": _p("Tier code taken", 409, explanation="""
        The product already has a tier with this code; tier codes are unique within a
        product. Choose another code."""),
    "FEATURE_EXISTS": _p("Feature exists", 409, explanation="""
        The product already has a feature with this key. Choose another key."""),
    "TENANT_EXISTS": _p("Tenant exists", 409, explanation="""
        A tenant with this id exists already. Choose another id."""),
    "EMAIL_TAKEN": _p("Email taken", 409, explanation="""
        The tenant already has an identity with this email address (compared
        case-insensitively, after Unicode normalization). Use the existing identity."""),
    "SUBJECT_TAKEN": _p("Account already bound", 409, explanation="""
        Another identity is already bound to this identity-provider account; an account
        belongs to one identity."""),
    # State and rules
    "CONFLICT": _p("Conflict", 409, explanation="""
        The request conflicts with the current state of the resource. Read it again and
        decide whether the change still applies."""),
    "CONCURRENT_CHANGE": _p("Concurrent change", 409, explanation="""
        Another request changed the same records at the same moment and retries did not
        settle it. Retry the request; it changed nothing."""),
    "TIER_CYCLE": _p("Tier inheritance cycle", 409, explanation="""
        The tier would include itself through includesTierId (directly or through other
        tiers). Tier inheritance must not loop: choose another parent tier."""),
    "UNKNOWN_PARENT_TIER": _p("Unknown parent tier", 422, explanation="""
        includesTierId names no tier of this product. A tier can only include a tier of
        the same product."""),
    "UNKNOWN_FEATURE": _p("Unknown feature", 422, explanation="""
        The tier names features its product does not have (listed in unknown). Add the
        features to the product first."""),
    "PRICE_MISSING": _p("Price missing", 422, explanation="""
        The tier's billingPeriods offers a period (named in period) whose price is not set
        (field names it: monthlyPrice or annualPrice). A period is sold only at a price
        someone set: give the price (0 for free) or drop the period."""),
    "TIER_NOT_PROVISIONABLE": _p("Tier not provisionable", 422, explanation="""
        A provisioning policy cannot name a sensitive tier: its licenses need a step-up for
        each issuance, so they cannot be issued automatically."""),
    "TIER_NOT_SELF_SERVICE": _p("Tier not open to self-service", 422, explanation="""
        This tier cannot be registered for by the public: its vendor has not opened it to
        self-service. Ask the vendor for a license."""),
    "TENANT_LIMIT_REACHED": _p("Tenant limit reached", 409, explanation="""
        The license serving these tenants already serves as many as its tier's maxTenants.
        Upgrade the license's tier or serve the tenant with another license."""),
    "SEAT_LIMIT_REACHED": _p("Seat limit reached", 409, explanation="""
        Every seat of the license (its tier's maxUsers) is taken by an active machine.
        Deactivate a machine, wait until one stops heartbeating past its token lifetime, or
        upgrade the tier."""),
    "ACTIVATION_DEAD": _p("Activation dead", 410, explanation="""
        The machine missed its heartbeats for longer than its token lifetime, so its seat
        was released. Activate the machine again with its license key."""),
    # Offline machines
    "OFFLINE_NOT_ALLOWED": _p("Offline use not allowed", 403, explanation="""
        The license's tier does not allow machine files (its offline policy), or does not
        let machines borrow their seat (maxBorrowSeconds 0). Keep the machine online, or
        move the license to a tier that allows offline use."""),
    "TTL_ABOVE_POLICY": _p("Lifetime above the tier's policy", 422, explanation="""
        The machine file's lifetime (ttlSeconds, or the borrow's seconds) is longer than
        the tier's offline policy allows (maxTtlSeconds or maxBorrowSeconds, also in the
        problem). Ask for a shorter one, or leave it out for the tier's default."""),
    "STALE_REQUEST": _p("Stale request", 422, explanation="""
        The offline activation request (or proof) was written too long ago (maxAgeSeconds),
        or in the future by the machine's clock. Check the machine's clock and have its SDK
        write a new request."""),
    "NONCE_REUSED": _p("Request already used", 409, explanation="""
        This offline activation request was submitted before: each request is accepted
        once. Have the machine's SDK write a new one."""),
    "MACHINE_KEY_REQUIRED": _p("Machine key required", 422, explanation="""
        Borrowing a seat, and handing one back by proof, needs an activation that has the
        machine's public key (activate with publicKey): the proof is signed with it."""),
    "NOT_BORROWED": _p("Seat not borrowed", 409, explanation="""
        The activation did not borrow its seat, so there is nothing to return; free the
        seat with a deactivation instead."""),
    "STATUS_LIST_NOT_FOUND": _p("Status list not found", 404, explanation="""
        No status list has this id: lists are numbered from 0 as machine files are issued.
        Fetch the list named by a machine file's status claim."""),
    "LICENSE_NOT_ACTIVE": _p("License not active", 409, explanation="""
        The license is suspended or revoked (see licenseStatus), so it cannot be changed
        this way. Reinstate it first, where that is allowed."""),
    "LICENSE_PERPETUAL": _p("License is perpetual", 422, explanation="""
        A perpetual license never expires and needs no renewal."""),
    "EXPIRY_IN_PAST": _p("Expiry in the past", 422, explanation="""
        expiresAt must lie in the future."""),
    "EXPIRY_NOT_LATER": _p("Expiry not later", 422, explanation="""
        A renewal must move expiresAt later than both now and the license's current
        expiry."""),
    "EXPIRY_TOO_FAR": _p("Expiry too far", 422, explanation="""
        expiresAt is more than 100 years away; for a license that never expires, ask for a
        perpetual one."""),
    "TOKEN_MISMATCH": _p("Token of another license", 422, explanation="""
        The audited token belongs to another license than the one in the path."""),
    "INVALID_PUBLIC_KEY": _p("Invalid public key", 422, explanation="""
        The machine's publicKey is not one RSA public key of 2048 to 8192 bits, as a PEM
        block or a JWK with public members only, or encrypting to it failed. Send the public
        half of the machine's RSA key; omit it to receive signed rather than encrypted
        tokens."""),
    "INVALID_EMAIL": _p("Invalid email address", 422, explanation="""
        The email address is not one the service or its identity provider accepts (for
        example it carries invisible or control characters). Check the address."""),
    "UNKNOWN_METER": _p("Unknown meter", 422, explanation="""
        The license's tier has no quota with this meter name; the meters member lists those
        it has."""),
    # Statistics
    "INVALID_RANGE": _p("Invalid range", 422, explanation="""
        The statistics' from day is after their to day, or to is after today. Days are UTC
        calendar days written YYYY-MM-DD; ask for a range that has already begun."""),
    "RANGE_TOO_LONG": _p("Range too long", 422, explanation="""
        One request reads at most the number of days in the maxDays member. Ask for a
        shorter range, or for several ranges one after the other."""),
    "RANGE_TOO_OLD": _p("Range too old", 422, explanation="""
        The statistics keep daily points for 400 days; the oldest member names the first day
        still kept. Ask for a range that starts on or after it."""),
    "FEATURE_NOT_LICENSED": _p("Feature not licensed", 400, explanation="""
        The license's tier does not include this feature. Upgrade to a tier that includes
        it."""),
    "LICENSE_EXPIRED": _p("License expired", 400, explanation="""
        The license expired while the action was under way. Renew the license, then try
        again."""),
    # License keys and machine tokens: why one was refused (also the code of a
    # validation answer with valid: false)
    "KEY_REFUSED": _p("License key refused", 403, explanation=f"""
        The {_HELD} was refused; the problem's code usually says why more precisely. Check
        that the application sends the key it was issued, unchanged."""),
    "MALFORMED": _p("Malformed token", 403, 422, explanation=f"""
        The {_HELD} is not a well-formed token of ours: wrong number of segments, invalid
        base64url or JSON, missing claims, or too long (422 when it is the body of an
        audit). Send the token exactly as issued."""),
    "SIGNATURE_INVALID": _p("Signature invalid", 403, 422, explanation=f"""
        The {_HELD}'s signature does not verify, or it uses an algorithm other than RS256:
        it was altered or was not issued by this service."""),
    "UNKNOWN_KEY_ID": _p("Unknown signing key", 403, 422, explanation=f"""
        The {_HELD} was signed by a key this service does not publish (see
        /.well-known/jwks.json), for example one retired long ago. Ask for a regenerated
        key."""),
    "WRONG_TOKEN_TYPE": _p("Wrong token type", 403, 422, explanation="""
        License keys (typ license+jwt), machine tokens (activation+jwt), machine files
        (machine-file+jwt), offline activation requests and proofs are never
        interchangeable: send the kind of token this operation takes."""),
    "WRONG_ISSUER": _p("Wrong issuer", 403, 422, explanation=f"""
        The {_HELD} was issued by another licensing service (its iss claim)."""),
    "WRONG_AUDIENCE": _p("Wrong product", 403, 422, explanation=f"""
        The {_HELD} is for another product than the one it was used with (its aud
        claim)."""),
    "NOT_YET_VALID": _p("Not yet valid", 403, 422, explanation=f"""
        The {_HELD} is not valid yet (its nbf claim lies in the future). Check the
        machine's clock."""),
    "EXPIRED": _p("Expired", 403, 422, explanation="""
        The license, or the token, has expired. Renew the license, or have the machine
        heartbeat or activate again for a fresh token."""),
    "REVOKED": _p("License revoked", 403, explanation="""
        The license was revoked by an administrator; its keys no longer work. Ask the
        vendor for a new license."""),
    "SUSPENDED": _p("License suspended", 403, explanation="""
        The license is suspended: its keys are refused until an administrator reinstates
        it."""),
    "SUPERSEDED": _p("Key superseded", 403, explanation="""
        The license's key was regenerated; this older key no longer works. Use the newest
        key of the license."""),
    "IDENTITY_DEACTIVATED": _p("Identity deactivated", 403, 409, explanation="""
        The identity that owns the license was deactivated, so all its licenses are
        refused (409 when an administrator acts on its licenses). An administrator can
        reactivate the identity."""),
    "REGION_NOT_ALLOWED": _p("Region not allowed", 403, explanation="""
        The license may only be used in the region named by its key's region claim, and
        the application reported another region."""),
    # Registration and claims
    "RATE_LIMITED": _p("Rate limited", 429, explanation="""
        Too many registrations for this email address or from this network in the current
        window. Wait the Retry-After seconds (also in retryAfterSeconds), then try again."""),
    "CLAIM_EXPIRED": _p("Claim expired", 410, explanation="""
        The pending registration was not claimed in time. Register again to get a new
        claim."""),
    "CLAIM_IN_PROGRESS": _p("Claim in progress", 409, explanation="""
        Another request is fulfilling this claim right now. Retry in a moment: you then see
        its result."""),
    "CLAIM_ALREADY_FULFILLED": _p("Claim already fulfilled", 409, explanation="""
        This registration was claimed already; its license is in your licenses."""),
    "REGISTRATION_UNAVAILABLE": _p("Registration unavailable", 503, explanation="""
        Self-service registration is not configured on this deployment (no identity provider
        to invite users into). Ask the vendor for a license."""),
    # Limits and the service itself
    "TOO_MANY_REQUESTS": _p("Too many requests", 429, explanation="""
        The caller sent more requests than allowed. Wait the Retry-After seconds, then
        retry."""),
    "QUOTA_EXCEEDED": _p("Quota exceeded", 429, explanation="""
        The usage would exceed the tier's quota for this meter in the current period;
        nothing was counted. Wait for the next period or upgrade the tier."""),
    "GONE": _p("Gone", 410, explanation="""
        The resource existed but is over for good. Start again from its beginning."""),
    "SERVICE_UNAVAILABLE": _p("Service unavailable", 503, explanation="""
        A dependency (the database, the signing key, the identity provider) is throttling or
        failing. Nothing was changed: retry with exponential backoff."""),
    "INTERNAL_ERROR": _p("Internal error", 500, explanation="""
        The service failed unexpectedly; the failure is logged. Retry later, and if it
        persists contact support with the problem's requestId so the request can be found
        in the logs."""),
    # The API gateway
    "ROUTE_NOT_FOUND": _p("No such route", 404, explanation="""
        No operation of this API has this path. See /openapi.json or /docs for the paths it
        serves."""),
    "METHOD_NOT_ALLOWED": _p("Method not allowed", 405, explanation="""
        The path exists but does not take this HTTP method; the Allow header lists those it
        takes."""),
    "NOT_IMPLEMENTED": _p("Not implemented", 501, explanation="""
        The route is declared but this deployment has no function serving it yet."""),
    "URI_TOO_LONG": _p("URI too long", 414, explanation="""
        The request target is longer than the gateway reads. Send long data in the body."""),
    "HEADERS_TOO_LARGE": _p("Headers too large", 431, explanation="""
        The request's header fields are too many or too large for the gateway."""),
}
# fmt: on

#: Codes by slug, for the pages.
BY_SLUG: Mapping[str, str] = {slug(code): code for code in CATALOG}
