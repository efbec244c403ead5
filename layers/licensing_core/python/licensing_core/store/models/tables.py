"""Every stored model that has a table of its own."""

from __future__ import annotations

from licensing_core.store.base import StoredModel
from licensing_core.store.models.activations import ActivationRecord
from licensing_core.store.models.audit import AuditRecord
from licensing_core.store.models.catalog import FeatureRecord, ProductRecord, TierRecord
from licensing_core.store.models.claims import PendingLicenseClaim
from licensing_core.store.models.idempotency import IdempotencyRecord
from licensing_core.store.models.identities import CustomerRecord, TenantRecord
from licensing_core.store.models.licenses import LicenseRecord
from licensing_core.store.models.rate_limits import RateLimitRecord
from licensing_core.store.models.stats import StatsRecord
from licensing_core.store.models.status_lists import StatusChunk
from licensing_core.store.models.uniques import UniqueRecord
from licensing_core.store.models.usage import UsageRecord

#: Every stored model; CDK and the local server create one table for each.
ALL_MODELS: tuple[type[StoredModel], ...] = (
    ProductRecord,
    FeatureRecord,
    TierRecord,
    TenantRecord,
    CustomerRecord,
    LicenseRecord,
    ActivationRecord,
    AuditRecord,
    UsageRecord,
    IdempotencyRecord,
    UniqueRecord,
    PendingLicenseClaim,
    RateLimitRecord,
    StatsRecord,
    StatusChunk,
)
