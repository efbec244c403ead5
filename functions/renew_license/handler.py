"""POST /license-keys/{licenseId}/renew: extend a license and get a fresh key."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import LicenseKey, Renew
from licensing_core.services import licenses


@endpoint("renew_license")
def handler(request: Request[Renew]) -> LicenseKey:
    return licenses.renew(request.path["licenseId"], request.body, request.actor)
