"""GET /license-keys/{licenseId}: read a license."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import License
from licensing_core.services import licenses


@endpoint("get_license")
def handler(request: Request[None]) -> License:
    return licenses.get(request.path["licenseId"])
