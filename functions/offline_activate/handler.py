"""POST /license-activations/offline: activate a machine from its signed request."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import MachineFile, OfflineActivationRequest
from licensing_core.services import offline


def _licensee(request: Request[OfflineActivationRequest]) -> str:
    return offline.idempotency_space(request.body)


@endpoint("offline_activate", idempotency_space=_licensee)
def handler(request: Request[OfflineActivationRequest]) -> MachineFile:
    return offline.activate(
        request.body, request.base_url, source_ip=request.source_ip, user_agent=request.user_agent
    )
