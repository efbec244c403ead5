"""POST /license-keys/{licenseId}/revoke: revoke a license for good (idempotent)."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import License, StatusChange
from licensing_core.services import licenses


@endpoint("revoke_license")
def handler(request: Request[StatusChange]) -> License:
    return licenses.revoke(request.path["licenseId"], request.body, request.actor)
