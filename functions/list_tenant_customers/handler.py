"""GET /tenants/{tenantId}/customers: a tenant's identities, a page at a time."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import CustomerPage
from licensing_core.services import identities


@endpoint("list_tenant_customers")
def handler(request: Request[None]) -> CustomerPage:
    return identities.list_tenant_customers(request.path["tenantId"], request.query)
