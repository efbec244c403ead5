"""POST /license-keys/{licenseId}/regenerate: sign a new key from the current catalog."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import LicenseKey, Regenerate
from licensing_core.services import licenses


@endpoint("regenerate_license")
def handler(request: Request[Regenerate]) -> LicenseKey:
    return licenses.regenerate(request.path["licenseId"], request.body, request.actor)
