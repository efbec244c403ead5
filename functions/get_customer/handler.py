"""GET /customers/{customerId}: read an identity."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Customer
from licensing_core.services import identities


@endpoint("get_customer")
def handler(request: Request[None]) -> Customer:
    return identities.get_customer(request.path["customerId"])
