"""GET /tenants/{tenantId}: read a tenant."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Tenant
from licensing_core.services import identities


@endpoint("get_tenant")
def handler(request: Request[None]) -> Tenant:
    return identities.get_tenant(request.path["tenantId"])
