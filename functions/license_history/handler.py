"""GET /license-keys/{licenseId}/history: the audit trail of a license."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import History
from licensing_core.services import licenses


@endpoint("license_history")
def handler(request: Request[None]) -> History:
    return licenses.history(request.path["licenseId"], request.query)
