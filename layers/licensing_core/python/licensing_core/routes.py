"""The route table: the single declaration of every endpoint.

CDK builds one Lambda and one HTTP API route per row, the local server dispatches
from it, the endpoint wrapper reads it to parse, authorize and serialize, and the
OpenAPI document is generated from it. Adding an endpoint means one row here and
one thin ``functions/<function>/handler.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Generic, Literal, TypeVar

from licensing_core import schemas as s
from licensing_core.plain import PlainModel, PlainRequest

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
TableAccess = Literal["read", "write"]
#: What a function does with the token-signing key: publish/verify with the public
#: half, or sign (KMS ``kms:Sign`` is granted only to the latter).
KeyUse = Literal["verify", "sign"]
#: What a function asks of the identity provider (``identity/provider.py``): ``read``
#: looks accounts up (Cognito ``ListUsers``); ``invite`` also creates them
#: (``AdminCreateUser``).
IdentityProviderUse = Literal["read", "invite", "manage"]

_PATH_PARAM = re.compile(r"{([A-Za-z][A-Za-z0-9]*)}")
#: A pydantic model or a plain one (``licensing_core.plain``); the rows name them, so
#: reading the table imports neither.
ModelT = TypeVar("ModelT")


class Model(Generic[ModelT]):
    """A route's request, query or response model: a row names it (``"ProductCreate"``,
    or gives the class), and reading it imports it from :mod:`licensing_core.schemas`
    then, so a function loads its own route's models, never the whole API's."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_{name}_model"

    def __get__(self, route: object, owner: type | None = None) -> type[ModelT] | None:
        if route is None:  # the dataclass asks for the default
            return None
        value = route.__dict__[self._slot]
        if isinstance(value, str):
            value = route.__dict__[self._slot] = getattr(s, value)
        return value

    def __set__(self, route: object, value: type[ModelT] | str | None) -> None:
        route.__dict__[self._slot] = value


class Access(StrEnum):
    """Who may call a route."""

    PUBLIC = "public"  #: anyone, no credentials
    APPLICATION = "application"  #: a licensed application, with the key or clientId it holds
    ADMIN = "admin"  #: an OIDC bearer in the admin group
    END_USER = "end-user"  #: any verified OIDC bearer (the caller's own data only)


#: Rows are compared by identity (one object per row): no generated __eq__ or __hash__,
#: which every function would pay for at import (cold starts).
@dataclass(frozen=True, eq=False)
class Route:
    method: HttpMethod
    path: str
    function: str
    summary: str
    access: Access
    request: Model[s.RequestModel | PlainRequest] = Model()
    query: Model[s.RequestModel] = Model()
    response: Model[s.ApiModel | PlainModel] = Model()
    status: int = 200
    media_type: str = "application/json"
    #: Name of the action in the step-up policy; None where no step-up applies.
    step_up: str | None = None
    #: Tables (logical names) the function may touch, and how: CDK grants exactly these.
    tables: tuple[tuple[str, TableAccess], ...] = ()
    signing_key: KeyUse | None = None
    #: Whether an ``Idempotency-Key`` header makes a retry replay the first response.
    idempotent: bool = False
    #: Statuses the service answers beyond what access and models imply (for the docs).
    statuses: tuple[int, ...] = ()
    tag: str = "default"
    #: Whether the body may also come as an HTML form (``application/x-www-form-urlencoded``,
    #: parsed into the same request model, one string per field).
    form: bool = False
    identity_provider: IdentityProviderUse | None = None
    #: On administrator routes: whether tenant administrators may call it too, within
    #: their tenant (``services/tenancy.py`` checks every id the request names).
    tenant_admins: bool = False
    #: Whether only people may call it: a service account's (client-credentials) token is
    #: refused with 403 ``HUMAN_ONLY``.
    people_only: bool = False
    #: Whether the route gives access back or for longer without signing anything:
    #: re-enables a license or identity, or widens what a tier grants. Such routes, and
    #: every route that signs, name a ``step_up`` action or have a written reason in
    #: :data:`STEP_UP_EXEMPTIONS`.
    extends_access: bool = False

    @property
    def grants_access(self) -> bool:
        """Whether the route signs a key or token, extends access or re-enables it."""
        return self.signing_key == "sign" or self.extends_access

    @cached_property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAM.findall(self.path))

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Matches a concrete path; path parameters are single non-empty segments."""
        parts = _PATH_PARAM.split(self.path)  # literal, name, literal, name, ..., literal
        regex = "".join(
            f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
            for index, part in enumerate(parts)
        )
        return re.compile(f"^{regex}$")

    @property
    def route_key(self) -> str:
        """The API Gateway HTTP API route key, e.g. ``GET /products/{productId}``."""
        return f"{self.method} {self.path}"


def _rw(*names: str) -> tuple[tuple[str, TableAccess], ...]:
    return tuple((name, "write") for name in names)


def _ro(*names: str) -> tuple[tuple[str, TableAccess], ...]:
    return tuple((name, "read") for name in names)


A, P, U = Access.ADMIN, Access.PUBLIC, Access.END_USER

# fmt: off
ROUTES: tuple[Route, ...] = (
    # Catalog
    Route("POST", "/products", "create_product", "Create a product", A,
          request="ProductCreate", response="Product", status=201,
          tables=_rw("products", "uniques"), tag="catalog"),
    Route("GET", "/products", "list_products", "List products", A,
          query="PageQuery", response="ProductPage", tables=_ro("products"), tenant_admins=True, tag="catalog"),
    Route("GET", "/products/{productId}", "get_product", "Read a product", A,
          response="Product", tables=_ro("products"), tenant_admins=True, tag="catalog"),
    Route("POST", "/products/{productId}/features", "create_feature", "Add a feature to a product", A,
          request="FeatureCreate", response="Feature", status=201,
          tables=_ro("products") + _rw("features"), tag="catalog"),
    Route("GET", "/products/{productId}/features", "list_features", "List a product's features", A,
          response="FeatureList", tables=_ro("products", "features"), tenant_admins=True, tag="catalog"),
    Route("POST", "/products/{productId}/tiers", "create_tier", "Add a pricing tier", A,
          request="TierCreate", response="Tier", status=201,
          tables=_ro("features") + _rw("products", "tiers", "uniques"), tag="catalog"),
    Route("GET", "/products/{productId}/tiers", "list_tiers", "List tiers, resolved", A,
          response="TierList", tables=_ro("products", "features", "tiers"), tenant_admins=True, tag="catalog"),
    Route("GET", "/products/{productId}/tiers/{tierId}", "get_tier",
          "Read a tier with its resolved (inherited) features", A,
          response="Tier", tables=_ro("products", "features", "tiers"), tenant_admins=True, tag="catalog"),
    Route("PATCH", "/products/{productId}/tiers/{tierId}", "update_tier", "Change a tier", A,
          request="TierUpdate", response="Tier", step_up="tier.update",
          tables=_ro("features") + _rw("products", "tiers"), extends_access=True, tag="catalog"),
    Route("GET", "/products/{productId}/pricing", "pricing",
          "Public pricing of a product (by id or code): tiers, prices, every feature", P,
          response="Pricing", tables=_ro("products", "features", "tiers", "uniques"),
          tag="catalog"),
    # Tenants and identities
    Route("POST", "/tenants", "create_tenant",
          "Create a tenant (with a provisioning policy, and the license serving it)", A,
          request="TenantCreate", response="Tenant", status=201,
          tables=_ro("products", "features", "tiers") + _rw("tenants", "licenses", "audit"),
          statuses=(409,), tag="identity"),
    Route("GET", "/tenants/{tenantId}", "get_tenant", "Read a tenant", A,
          response="Tenant", tables=_ro("tenants"), tenant_admins=True, tag="identity"),
    Route("GET", "/tenants/{tenantId}/customers", "list_tenant_customers",
          "List a tenant's identities", A, query="PageQuery", response="CustomerPage",
          tables=_ro("tenants", "customers"), tenant_admins=True, tag="identity"),
    Route("GET", "/tenants/{tenantId}/summary", "tenant_summary",
          "A tenant's identities, licenses and current usage, counted", A,
          response="TenantSummary", tables=_ro("tenants", "customers", "licenses", "usage"),
          tenant_admins=True, tag="identity"),
    Route("POST", "/customers", "create_customer",
          "Create an identity (human or service); its tenant's provisioning policy issues "
          "its license at once", A,
          request="CustomerCreate", response="Customer", status=201,
          tables=_ro("tenants", "products", "features", "tiers")
          + _rw("customers", "uniques", "licenses", "audit"),
          signing_key="sign", tenant_admins=True, tag="identity"),
    Route("GET", "/customers/{customerId}", "get_customer", "Read an identity", A,
          response="Customer", tables=_ro("customers"), tenant_admins=True, tag="identity"),
    Route("GET", "/customers", "search_customers",
          "Find identities by email, email or name prefix, tenant, status and kind", A,
          query="CustomerSearch", response="CustomerPage", tables=_ro("customers"),
          tenant_admins=True, tag="identity"),
    # License keys
    Route("POST", "/license-keys", "issue_license",
          "Issue a license key (product and tier by id or code; the identity by id, or by "
          "email: created with the license when new)", A,
          request="LicenseCreate", response="IssuedLicense", status=201,
          step_up="license.issue", tables=_ro("tenants", "products", "features", "tiers")
          + _rw("customers", "uniques", "licenses", "audit", "idempotency"),
          signing_key="sign", idempotent=True, tenant_admins=True, tag="licenses"),
    Route("POST", "/license-keys/validate", "validate_license",
          "Validate a license key (an invalid key is a 200 with valid: false)", Access.APPLICATION,
          request="ValidateRequest", response="Validation",
          tables=_ro("licenses", "customers"), signing_key="verify", tag="licenses"),
    Route("GET", "/license-keys/{licenseId}", "get_license", "Read a license", A,
          response="License", tables=_ro("licenses"), tenant_admins=True, tag="licenses"),
    Route("GET", "/license-keys", "search_licenses",
          "Find licenses by product, tier, standing, identity, tenant and expiry", A,
          query="LicenseSearch", response="LicensePage",
          tables=_ro("uniques", "products", "features", "tiers", "customers", "licenses"),
          tenant_admins=True, tag="licenses"),
    Route("GET", "/customers/{customerId}/license-keys", "list_customer_licenses",
          "List an identity's licenses", A, query="PageQuery", response="LicensePage",
          tables=_ro("customers", "licenses"), tenant_admins=True, tag="licenses"),
    Route("POST", "/license-keys/{licenseId}/revoke", "revoke_license",
          "Revoke a license for good (idempotent)", A, request="StatusChange",
          response="License", step_up="license.revoke", tables=_rw("licenses", "audit"),
          tenant_admins=True, tag="licenses"),
    Route("POST", "/license-keys/{licenseId}/suspend", "suspend_license",
          "Suspend a license (reversible)", A, request="StatusChange", response="License",
          tables=_rw("licenses", "audit"), tenant_admins=True, tag="licenses"),
    Route("POST", "/license-keys/{licenseId}/reinstate", "reinstate_license",
          "Reinstate a suspended license", A, request="Reinstate", response="License",
          step_up="license.reinstate", tables=_rw("licenses", "audit"), extends_access=True,
          tenant_admins=True, tag="licenses"),
    Route("POST", "/license-keys/{licenseId}/renew", "renew_license",
          "Extend a license and get a fresh key", A, request="Renew", response="LicenseKey",
          step_up="license.renew", tables=_ro("products", "features", "tiers", "customers") + _rw("licenses", "audit"),
          signing_key="sign", tenant_admins=True, tag="licenses"),
    Route("POST", "/license-keys/{licenseId}/regenerate", "regenerate_license",
          "Sign a new key from the current catalog", A, request="Regenerate",
          response="LicenseKey", step_up="license.regenerate",
          tables=_ro("products", "features", "tiers", "customers") + _rw("licenses", "audit"),
          signing_key="sign", tenant_admins=True, tag="licenses"),
    Route("POST", "/license-keys/{licenseId}/audit", "audit_license",
          "Compare a key's claims with the database (drift)", A, request="AuditRequest",
          response="AuditReport", tables=_ro("products", "features", "tiers", "customers",
                                             "licenses"),
          signing_key="verify", tenant_admins=True, tag="licenses"),
    Route("GET", "/license-keys/{licenseId}/history", "license_history",
          "The audit trail of a license, newest first", A, query="PageQuery",
          response="History", tables=_ro("licenses", "audit"), tenant_admins=True, tag="licenses"),
    # Activations: what applications call
    Route("POST", "/license-activations/activate", "activate",
          "Activate a machine: take a seat, get a short-lived machine token (201; 200 when the "
          "machine was already active)", Access.APPLICATION,
          request="ActivateRequest", response="Activation", status=201,
          tables=_ro("products", "features", "tiers", "customers")
          + _rw("licenses", "activations", "uniques", "audit", "idempotency"),
          signing_key="sign", idempotent=True, statuses=(200, 403), tag="activations"),
    Route("POST", "/license-keys/heartbeat", "heartbeat",
          "Renew a machine token (no heartbeat, no token)", Access.APPLICATION,
          request="HeartbeatRequest", response="MachineToken",
          tables=_ro("products", "features", "tiers", "customers", "licenses")
          + _rw("activations"),
          signing_key="sign", statuses=(403, 404, 410), tag="activations"),
    Route("POST", "/license-activations/deactivate", "deactivate",
          "Deactivate a machine and free its seat (idempotent)", Access.APPLICATION,
          request="DeactivateRequest", response="Deactivation",
          tables=_rw("licenses", "activations", "uniques", "audit"), tag="activations"),
    Route("GET", "/license-keys/{licenseId}/activations", "list_activations",
          "A license's activations and seats", A, response="ActivationList",
          tables=_ro("products", "features", "tiers", "licenses", "activations"),
          tenant_admins=True, tag="activations"),
    Route("POST", "/license-keys/{licenseId}/activations/{activationId}/deactivate",
          "force_deactivate", "Deactivate a machine as an administrator", A,
          response="Deactivation", tables=_rw("licenses", "activations", "uniques", "audit"),
          tenant_admins=True, tag="activations"),
    # Offline machines (services/offline.py)
    Route("POST", "/license-activations/checkout", "checkout",
          "A machine file for an active machine: its license, verifiable offline until the "
          "file expires (the tier's offline policy); the seat is held until then", Access.APPLICATION,
          request="CheckoutRequest", response="MachineFile",
          tables=_ro("products", "features", "tiers", "customers", "licenses")
          + _rw("activations", "status_lists", "audit"),
          signing_key="sign", statuses=(403, 404, 409, 410), tag="offline"),
    Route("POST", "/license-activations/borrow", "borrow_seat",
          "Borrow the machine's seat for offline use: a machine file valid until the borrow "
          "ends (the tier's maxBorrowSeconds); the seat is taken until then or its return",
          Access.APPLICATION, request="BorrowRequest", response="MachineFile",
          tables=_ro("products", "features", "tiers", "customers", "licenses")
          + _rw("activations", "status_lists", "audit"),
          signing_key="sign", statuses=(403, 404, 409, 410), tag="offline"),
    Route("POST", "/license-activations/return", "return_seat",
          "Return a borrowed seat early, with a proof signed by the machine's key",
          Access.APPLICATION, request="SeatProof", response="Deactivation",
          tables=_rw("licenses", "activations", "uniques", "audit"), statuses=(409,),
          tag="offline"),
    Route("POST", "/license-activations/offline", "offline_activate",
          "Activate a machine without connectivity from the request its SDK wrote: take a "
          "seat, get its machine file", Access.APPLICATION,
          request="OfflineActivationRequest", response="MachineFile", status=201,
          tables=_ro("products", "features", "tiers", "customers")
          + _rw("licenses", "activations", "uniques", "status_lists", "audit", "idempotency"),
          signing_key="sign", idempotent=True, statuses=(403, 409), tag="offline"),
    Route("POST", "/license-activations/offline-deactivate", "offline_deactivate",
          "Free the seat of an offline machine with the proof its SDK wrote (once)",
          Access.APPLICATION, request="SeatProof", response="Deactivation",
          tables=_rw("licenses", "activations", "uniques", "audit"), tag="offline"),
    Route("GET", "/status-lists/{listId}", "status_list",
          "A status list (IETF Token Status List): one bit per machine file, set once the "
          "file is revoked, suspended or returned; signed, cacheable (ETag)", P,
          media_type="application/statuslist+jwt", tables=_ro("status_lists"),
          signing_key="sign", statuses=(304, 404), tag="offline"),
    # Identity-first licensing
    Route("POST", "/customers/{customerId}/deactivate", "deactivate_customer",
          "Deactivate an identity: its licenses stop at once and its seats are freed", A,
          request="CustomerStatusChange", response="Customer", step_up="identity.deactivate",
          tables=_rw("customers", "licenses", "activations", "uniques", "audit"), identity_provider="manage", tenant_admins=True, tag="identity"),
    Route("POST", "/customers/{customerId}/reactivate", "reactivate_customer",
          "Reactivate an identity", A, request="CustomerStatusChange", response="Customer",
          step_up="identity.reactivate", tables=_rw("customers", "audit"),
          identity_provider="manage", extends_access=True, tenant_admins=True, tag="identity"),
    Route("POST", "/usage", "report_usage",
          "Report metered usage against the tier's quota (429 over quota)", Access.APPLICATION,
          request="UsageReport", response="UsageResult",
          tables=_ro("products", "features", "tiers", "customers", "licenses", "activations")
          + _rw("usage", "audit"),
          signing_key="verify", statuses=(403, 404, 410, 429), tag="identity"),
    Route("GET", "/customers/{customerId}/usage", "customer_usage",
          "An identity's usage counters: this period's and, with periods, earlier ones'", A,
          query="UsageQuery", response="UsageList",
          tables=_ro("customers", "usage"), tenant_admins=True, tag="identity"),
    # Statistics (the rollup of services/rollup.py)
    Route("GET", "/stats", "stats_series",
          "Daily activations, deactivations, reclaimed seats, licenses issued, revoked and "
          "suspended, active machines and usage by meter", A,
          query="StatsQuery", response="StatsSeries", tables=_ro("stats", "products", "tenants"),
          tenant_admins=True, tag="stats"),
    Route("GET", "/stats/summary", "stats_summary",
          "Licenses by status and tier, active machines and seats, now", A,
          query="StatsScope", response="StatsSummary",
          tables=_ro("stats", "products", "tenants", "tiers"), tenant_admins=True, tag="stats"),
    # Discovery
    Route("GET", "/.well-known/jwks.json", "jwks", "Public keys that verify our tokens", P,
          response="JwkSet", signing_key="verify", tag="discovery"),
    Route("GET", "/.well-known/license-configuration", "license_configuration",
          "Discovery document for clients", P, response="LicenseConfiguration", tag="discovery"),
    Route("GET", "/openapi.json", "openapi", "This API's OpenAPI document", P,
          response="OpenApiDocument", tag="discovery"),
    Route("GET", "/docs", "docs", "Interactive API documentation (Swagger UI)", P,
          media_type="text/html", tag="discovery"),
    Route("GET", "/docs/{asset}", "docs_asset",
          "A file the documentation page loads (Swagger UI's, from this origin)", P,
          media_type="text/*", tag="discovery"),
    Route("GET", "/problems/{slug}", "problem_page",
          "What a problem type means (HTML): the page a problem's `type` points at", P,
          media_type="text/html", statuses=(404,), tag="discovery"),
    # Self-service registration and end users
    Route("GET", "/register", "register_page",
          "Self-service registration page (HTML) for a product's tier", P,
          query="RegisterPageQuery", media_type="text/html",
          tables=_ro("products", "features", "tiers", "uniques"), statuses=(404,), tag="self-service"),
    Route("POST", "/register", "register",
          "Register for a self-service tier: a pending license claim, and the identity provider "
          "invites the user (202; an HTML page for form posts; 429 when rate limited)", P,
          request="RegisterRequest", response="RegistrationAccepted", status=202, form=True,
          identity_provider="invite",
          tables=_ro("products", "features", "tiers", "uniques")
          + _rw("claims", "rate_limits", "audit"),
          statuses=(429,), tag="self-service"),
    Route("POST", "/user/claim-license", "claim_license",
          "Claim the license of your pending registration (410 once it expired)", U,
          request="ClaimRequest", response="LicenseKey", status=201, identity_provider="read",
          tables=_ro("products", "features", "tiers")
          + _rw("claims", "customers", "uniques", "licenses", "audit"),
          signing_key="sign", statuses=(404, 410), people_only=True, tag="self-service"),
    Route("GET", "/user/usage", "user_usage", "Your own usage counters", U,
          query="UsageQuery", response="UsageList", tables=_ro("uniques", "usage"),
          tag="self-service"),
    Route("GET", "/user/licenses", "user_licenses", "Your own licenses", U,
          query="PageQuery", response="LicensePage",
          tables=_ro("uniques", "customers", "licenses"), tag="self-service"),
    Route("GET", "/user/licenses/{licenseId}/key", "user_license_key",
          "A fresh key of one of your licenses (the keys you hold stay valid)", U,
          response="LicenseKey", step_up="license.key",
          tables=_ro("uniques", "customers", "products", "features", "tiers")
          + _rw("licenses", "audit"),
          signing_key="sign", statuses=(409,), people_only=True, tag="self-service"),
    Route("GET", "/user/activations", "user_activations",
          "Your machines, across your licenses", U, query="OwnActivationQuery",
          response="OwnActivationPage", tables=_ro("uniques", "licenses", "activations"),
          tag="self-service"),
    Route("POST", "/user/activations/{activationId}/deactivate", "user_deactivate",
          "Deactivate one of your machines: its seat is free for another", U,
          response="Deactivation", tables=_rw("uniques", "licenses", "activations", "audit"),
          tag="self-service"),
)
# fmt: on

#: Routes that give access without a step-up action, and why that is safe. Every other
#: route that signs, extends or re-enables access names a ``step_up`` action.
STEP_UP_EXEMPTIONS: dict[str, str] = {
    "activate": "an application proves possession of a signed, active license key; it gets "
    "a short-lived machine token for one seat, never more than the key already grants",
    "heartbeat": "renews a machine token only within its live activation of a usable "
    "license (a revoke racing it wins); nothing outlives the license key",
    "claim_license": "a person claims the one license of their own pending registration, "
    "for a self-service tier, once; no administrator power is used",
    "create_customer": "signs only the license of the tenant's provisioning policy, which a "
    "platform administrator set and which refuses sensitive tiers (TIER_NOT_PROVISIONABLE)",
    "checkout": "an application proves possession of a live activation (its clientId); the "
    "file is bounded by the tier's offline policy and the license, and its bit revocable",
    "borrow_seat": "an application proves possession of a live activation with a machine key; "
    "the file is bounded by the tier's maxBorrowSeconds and the license, and its bit revocable",
    "offline_activate": "the request carries a signed, active license key and proves possession "
    "of the machine's key; it takes one seat, checked as an online activation",
    "status_list": "signs only a statement of which machine files are no longer valid: it "
    "grants nothing, and can only take access away",
}


@dataclass(frozen=True, eq=False)  # a row, as Route
class Job:
    """A function run on a schedule (an EventBridge rule), not over HTTP. CDK builds its
    Lambda (same layers, environment and grants as a route's) and its rule from this row;
    ``functions/<function>/handler.py`` takes ``(event, context)`` and returns a summary."""

    function: str
    summary: str
    #: An EventBridge schedule expression: ``rate(1 hour)`` or ``cron(...)``.
    schedule: str = "rate(1 hour)"
    tables: tuple[tuple[str, TableAccess], ...] = ()


JOBS: tuple[Job, ...] = (
    Job(
        "expire_claims",
        "Expire pending license claims past their expiry (conditional writes: idempotent, "
        "never a claim fulfilled meanwhile)",
        schedule="rate(1 hour)",
        tables=_rw("claims", "audit"),
    ),
)


@dataclass(frozen=True, eq=False)  # a row, as Route
class StreamConsumer:
    """A function fed by a table's DynamoDB stream (the audit table's is the outbox: see
    ``licensing_core.outbox``), not over HTTP. CDK builds its Lambda and its event source
    mapping (partial batch failures, bisect on error, bounded retries, a dead-letter
    queue) from this row; ``functions/<function>/handler.py`` takes the stream batch and
    returns the partial batch response."""

    function: str
    summary: str
    #: The table whose stream feeds it.
    stream: str
    tables: tuple[tuple[str, TableAccess], ...] = ()
    #: Whether it puts lifecycle events on the bus (the only functions that may).
    publishes_events: bool = False


CONSUMERS: tuple[StreamConsumer, ...] = (
    StreamConsumer(
        "publish_events",
        "Put every committed audit record that is a lifecycle event on the bus (at least "
        "once, deduplicable by its eventId)",
        stream="audit",
        publishes_events=True,
    ),
    StreamConsumer(
        "flip_status_bits",
        "Set the status list bits of machine files whose activation ended, and set or clear "
        "those of a license or identity whose standing changed (services/status_lists.py)",
        stream="audit",
        tables=_ro("licenses", "customers", "activations") + _rw("status_lists"),
    ),
    StreamConsumer(
        "rollup_stats",
        "Count activations, deactivations, reclaimed seats and license changes into the "
        "statistics (once per audit record, however often delivered)",
        stream="audit",
        tables=_rw("stats"),
    ),
    StreamConsumer(
        "rollup_usage",
        "Count each usage counter's increase into the statistics, by meter and day (once "
        "per change)",
        stream="usage",
        tables=_rw("stats"),
    ),
)


@dataclass(frozen=True, eq=False)  # a row, as Route
class Trigger:
    """A function the identity provider invokes (a Cognito user pool trigger, deployed
    with a pool the stack creates), not over HTTP. CDK builds it from this row;
    ``functions/<function>/handler.py`` takes the trigger event and returns it."""

    function: str
    summary: str
    operation: Literal["post_confirmation", "pre_token_generation", "post_authentication"]
    tables: tuple[tuple[str, TableAccess], ...] = ()
    signing_key: KeyUse | None = None


TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "provision_identity",
        "Cognito post-confirmation: create the identity of a confirmed account, and the "
        "license its tenant's provisioning policy names",
        operation="post_confirmation",
        tables=_ro("products", "features", "tiers", "tenants")
        + _rw("customers", "uniques", "licenses", "audit"),
        signing_key="sign",
    ),
)

_BY_FUNCTION = {route.function: route for route in ROUTES}
#: Literal paths win over parameterised ones, as in API Gateway.
_BY_SPECIFICITY = sorted(ROUTES, key=lambda route: len(route.path_params))


def route_for(function: str) -> Route:
    """The route served by ``functions/<function>``."""
    return _BY_FUNCTION[function]


def job_for(function: str) -> Job:
    """The scheduled job run by ``functions/<function>``."""
    return next(job for job in JOBS if job.function == function)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | Literal[False] | None:
    """Find the route for a request: ``(route, path params)``; ``False`` when the path
    exists under another method (405); ``None`` when nothing matches (404)."""
    path_exists = False
    for route in _BY_SPECIFICITY:
        found = route.pattern.match(path)
        if found is None:
            continue
        if route.method == method:
            return route, found.groupdict()
        path_exists = True
    return False if path_exists else None
