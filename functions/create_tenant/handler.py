"""POST /tenants: create a tenant."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Tenant, TenantCreate
from licensing_core.services import identities


@endpoint("create_tenant")
def handler(request: Request[TenantCreate]) -> Tenant:
    return identities.create_tenant(request.body, request.actor)
