"""POST /license-activations/return: hand a borrowed seat back with a machine's proof."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Deactivation, SeatProof
from licensing_core.services import offline


@endpoint("return_seat")
def handler(request: Request[SeatProof]) -> Deactivation:
    return offline.return_seat(request.body)
