"""POST /license-keys/heartbeat: renew a machine token."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import HeartbeatRequest, MachineToken
from licensing_core.services import activations


@endpoint("heartbeat")
def handler(request: Request[HeartbeatRequest]) -> MachineToken:
    return activations.heartbeat(request.body)
