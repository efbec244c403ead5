"""GET /customers/{customerId}/license-keys: an identity's licenses."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import LicensePage
from licensing_core.services import licenses


@endpoint("list_customer_licenses")
def handler(request: Request[None]) -> LicensePage:
    return licenses.list_for_customer(request.path["customerId"], request.query)
