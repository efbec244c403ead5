"""POST /license-keys/{licenseId}/suspend: suspend a license."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import License, StatusChange
from licensing_core.services import licenses


@endpoint("suspend_license")
def handler(request: Request[StatusChange]) -> License:
    return licenses.suspend(request.path["licenseId"], request.body, request.actor)
