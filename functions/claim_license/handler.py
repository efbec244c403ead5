"""POST /user/claim-license: issue the license of the caller's pending registration."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import ClaimRequest, LicenseKey
from licensing_core.services import registration


@endpoint("claim_license")
def handler(request: Request[ClaimRequest]) -> LicenseKey:
    assert request.principal is not None  # an END_USER route: always authenticated
    return registration.claim_license(request.principal, request.body)
