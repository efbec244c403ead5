"""POST /customers/{customerId}/reactivate: let an identity use its licenses again."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Customer, CustomerStatusChange
from licensing_core.services import identities


@endpoint("reactivate_customer")
def handler(request: Request[CustomerStatusChange]) -> Customer:
    return identities.reactivate(request.path["customerId"], request.body, request.actor)
