"""GET /customers: find identities by email, email or name prefix, tenant, status, kind."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import CustomerPage
from licensing_core.services import search


@endpoint("search_customers")
def handler(request: Request[None]) -> CustomerPage:
    return search.find_customers(request.query, tenant=request.tenant)
