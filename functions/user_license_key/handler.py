"""GET /user/licenses/{licenseId}/key: a fresh key of one's own license (step-up)."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import LicenseKey
from licensing_core.services import self_service


@endpoint("user_license_key")
def handler(request: Request[None]) -> LicenseKey:
    assert request.principal is not None  # an END_USER route: always authenticated
    return self_service.license_key(request.principal, request.path["licenseId"], request.actor)
