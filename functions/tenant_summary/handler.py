"""GET /tenants/{tenantId}/summary: a tenant's identities, licenses and usage, counted."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import TenantSummary
from licensing_core.services import identities


@endpoint("tenant_summary")
def handler(request: Request[None]) -> TenantSummary:
    return identities.summary(request.path["tenantId"])
