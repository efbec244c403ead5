"""POST /license-keys: issue a signed license key."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import IssuedLicense, LicenseCreate
from licensing_core.services import licenses


@endpoint("issue_license")
def handler(request: Request[LicenseCreate]) -> IssuedLicense:
    claims = request.principal.claims if request.principal else None
    return licenses.issue(request.body, request.actor, claims, tenant=request.tenant)
