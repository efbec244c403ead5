"""GET /user/licenses: the caller's own licenses."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import LicensePage
from licensing_core.services import registration


@endpoint("user_licenses")
def handler(request: Request[None]) -> LicensePage:
    assert request.principal is not None  # an END_USER route: always authenticated
    return registration.user_licenses(request.principal, request.query)
