"""POST /license-keys/{licenseId}/reinstate: reinstate a suspended license."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import License, Reinstate
from licensing_core.services import licenses


@endpoint("reinstate_license")
def handler(request: Request[Reinstate]) -> License:
    return licenses.reinstate(request.path["licenseId"], request.body, request.actor)
