"""POST /license-keys/{licenseId}/audit: compare a key's claims with the database."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import AuditReport, AuditRequest
from licensing_core.services import licenses


@endpoint("audit_license")
def handler(request: Request[AuditRequest]) -> AuditReport:
    return licenses.audit(request.path["licenseId"], request.body)
