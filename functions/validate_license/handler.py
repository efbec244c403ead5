"""POST /license-keys/validate: is this license key valid right now?"""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import ValidateRequest, Validation
from licensing_core.services import licenses


@endpoint("validate_license")
def handler(request: Request[ValidateRequest]) -> Validation:
    return licenses.validate(request.body)
