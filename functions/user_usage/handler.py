"""GET /user/usage: the caller's own usage counters (a person's or a service account's)."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import UsageList
from licensing_core.services import usage


@endpoint("user_usage")
def handler(request: Request[None]) -> UsageList:
    assert request.principal is not None  # an END_USER route: always authenticated
    return usage.for_caller(request.principal.subject, request.query)
