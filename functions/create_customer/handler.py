"""POST /customers: create an identity (a human customer or a service account)."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Customer, CustomerCreate
from licensing_core.services import identities


@endpoint("create_customer")
def handler(request: Request[CustomerCreate]) -> Customer:
    return identities.create_customer(request.body, request.actor, tenant=request.tenant)
