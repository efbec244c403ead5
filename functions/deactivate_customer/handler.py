"""POST /customers/{customerId}/deactivate: stop an identity's licenses at once."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Customer, CustomerStatusChange
from licensing_core.services import identities


@endpoint("deactivate_customer")
def handler(request: Request[CustomerStatusChange]) -> Customer:
    return identities.deactivate(request.path["customerId"], request.body, request.actor)
