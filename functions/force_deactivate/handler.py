"""POST /license-keys/{licenseId}/activations/{activationId}/deactivate: as an admin."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Deactivation
from licensing_core.services import activations


@endpoint("force_deactivate")
def handler(request: Request[None]) -> Deactivation:
    return activations.force_deactivate(
        request.path["licenseId"], request.path["activationId"], request.actor
    )
