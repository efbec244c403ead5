"""GET /license-keys/{licenseId}/activations: a license's machines and seats."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import ActivationList
from licensing_core.services import activations


@endpoint("list_activations")
def handler(request: Request[None]) -> ActivationList:
    return activations.list_for_license(request.path["licenseId"])
