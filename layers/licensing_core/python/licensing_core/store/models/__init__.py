"""The stored records: one table per aggregate; ``uniques`` guards unique values.

One module per aggregate, and ``models.X`` imports X's module on first use: a function
loads the records it reads and writes, not every table's (PynamoDB builds each model
class with a metaclass that walks its members: a third of this package's import was
models the hot functions never touch, see ``bench/coldstart.py``). ``ALL_MODELS`` (every
table, for CDK and the local server) imports them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from licensing_core.lazy import lazy_names

if TYPE_CHECKING:
    # mypy sees every name; at run time __getattr__ imports a name's module when read
    from licensing_core.store.models.activations import *  # noqa: F403
    from licensing_core.store.models.audit import *  # noqa: F403
    from licensing_core.store.models.catalog import *  # noqa: F403
    from licensing_core.store.models.claims import *  # noqa: F403
    from licensing_core.store.models.idempotency import *  # noqa: F403
    from licensing_core.store.models.identities import *  # noqa: F403
    from licensing_core.store.models.licenses import *  # noqa: F403
    from licensing_core.store.models.rate_limits import *  # noqa: F403
    from licensing_core.store.models.stats import *  # noqa: F403
    from licensing_core.store.models.status_lists import *  # noqa: F403
    from licensing_core.store.models.tables import *  # noqa: F403
    from licensing_core.store.models.uniques import *  # noqa: F403
    from licensing_core.store.models.usage import *  # noqa: F403

#: The names each module defines.
_NAMES: dict[str, str] = {
    "activations": "ActivationRecord",
    "audit": "AuditRecord",
    "catalog": "PolicyAttribute PolicyMapAttribute ProductRecord FeatureRecord TierRecord",
    "claims": "ClaimsByStatus PendingLicenseClaim",
    "idempotency": "IdempotencyRecord",
    "identities": "TenantRecord CustomersByTenant CustomersByEmail CustomersByTenantEmail CustomersByTenantName CustomerRecord",
    "licenses": "LicensesByCustomer LicensesByTenant LicensesByProductExpiry LicensesByTenantExpiry LicenseRecord",
    "rate_limits": "RateLimitRecord",
    "stats": "StatsRecord StatsMarker",
    "status_lists": "StatusChunk StatusCounter",
    "tables": "ALL_MODELS",
    "uniques": "UniqueRecord",
    "usage": "UsageByCustomer UsageByTenant UsageRecord UsageReceipt",
}
__all__, __getattr__, __dir__ = lazy_names(__name__, _NAMES, globals())
