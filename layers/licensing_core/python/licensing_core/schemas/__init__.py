"""Request and response bodies of the public API (JSON, camelCase on the wire).

Requests forbid unknown fields, so ids, timestamps or counters can never be
mass-assigned. Services take and return these models; the HTTP edge serializes.

The models live in one module per area (``base``, ``catalog``, ``machines``...), and
``schemas.X`` imports X's module on first use: a function loads the models of its own
route, not the whole API's (cold starts, see ``bench/coldstart.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from licensing_core.lazy import lazy_names

if TYPE_CHECKING:
    # mypy sees every name; at run time __getattr__ imports a name's module when read
    from licensing_core.schemas.activations import *  # noqa: F403
    from licensing_core.schemas.base import *  # noqa: F403
    from licensing_core.schemas.catalog import *  # noqa: F403
    from licensing_core.schemas.discovery import *  # noqa: F403
    from licensing_core.schemas.fields import *  # noqa: F403
    from licensing_core.schemas.files import *  # noqa: F403
    from licensing_core.schemas.identities import *  # noqa: F403
    from licensing_core.schemas.licenses import *  # noqa: F403
    from licensing_core.schemas.machines import *  # noqa: F403
    from licensing_core.schemas.registration import *  # noqa: F403
    from licensing_core.schemas.stats import *  # noqa: F403
    from licensing_core.schemas.usage import *  # noqa: F403
    from licensing_core.schemas.validation import *  # noqa: F403

#: The names each module defines.
_NAMES: dict[str, str] = {
    "base": (
        "ApiModel RequestModel CatalogCode Name Description Cursor FeatureKey Id "
        "Currency Money Count Email MetadataValue Metadata PageQuery SearchCursor "
        "SearchQuery UtcDatetime Reason IdempotencyKey"
    ),
    "fields": "Code REGION_PATTERN Region FileTtl TokenText MachineId ClientId TokenType",
    "catalog": (
        "ProductCreate Product ProductPage FeatureCreate Feature FeatureList Quota "
        "HeartbeatPolicy OfflinePolicy StepUpRequirement BillingPeriods FeatureKeys "
        "Quotas StepUpMap TierCreate TierUpdate ResolvedTier Tier TierList "
        "PricingFeature PricingTier Pricing"
    ),
    "identities": (
        "ProvisioningPolicy TenantCreate Tenant CustomerCreate SignedUpAccount "
        "CustomerStatus Customer CustomerPage CustomerSearch CustomerStatusChange "
        "IdentityCounts LicenseCounts MeterUsage TenantSummary"
    ),
    "licenses": (
        "LicenseCreate LicenseKey IssuedLicense LicenseStatus StatusNote License "
        "LicensePage SearchMoment LicenseSearch StatusChange Reinstate Renew "
        "Regenerate AuditRequest Difference AuditReport HistoryEntry History"
    ),
    "validation": "ValidateRequest Validation",
    "machines": (
        "PublicJwk HostnameText MachineText VersionText ActivateRequest MachineToken "
        "Activation HeartbeatRequest DeactivateRequest Deactivation"
    ),
    "files": "CheckoutRequest OfflineActivationRequest BorrowRequest SeatProof MachineFile",
    "activations": (
        "ActivationView ActivationList OwnActivation OwnActivationPage OwnActivationQuery"
    ),
    "usage": ("UsageReport UsageResult UsageCounter UsageList UsageQuery"),
    "stats": (
        "Day StatsScope StatsQuery StatsPoint StatsSeries LicenseStatusCounts "
        "LicenseTotals SeatCounts StatsSummary"
    ),
    "discovery": ("Jwk JwkSet LicenseConfiguration OpenApiDocument FieldError Problem"),
    "registration": ("RegisterPageQuery RegisterRequest RegistrationAccepted ClaimRequest"),
}
__all__, __getattr__, __dir__ = lazy_names(__name__, _NAMES, globals())
