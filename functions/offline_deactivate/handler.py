"""POST /license-activations/offline-deactivate: free an offline machine's seat by proof."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Deactivation, SeatProof
from licensing_core.services import offline


@endpoint("offline_deactivate")
def handler(request: Request[SeatProof]) -> Deactivation:
    return offline.deactivate(request.body)
