"""GET /customers/{customerId}/usage: an identity's usage counters."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import UsageList
from licensing_core.services import usage


@endpoint("customer_usage")
def handler(request: Request[None]) -> UsageList:
    return usage.for_customer(request.path["customerId"], request.query)
