"""POST /license-activations/deactivate: free a machine's seat."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import DeactivateRequest, Deactivation
from licensing_core.services import activations


@endpoint("deactivate")
def handler(request: Request[DeactivateRequest]) -> Deactivation:
    return activations.deactivate(request.body)
