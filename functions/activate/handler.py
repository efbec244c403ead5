"""POST /license-activations/activate: take a seat and get a machine token."""

from licensing_core.http.endpoint import Reply, Request, endpoint
from licensing_core.schemas import ActivateRequest
from licensing_core.services import activations, licenses


def _licensee(request: Request[ActivateRequest]) -> str:
    return licenses.idempotency_space(request.body.key_token, request.body.region)


@endpoint("activate", idempotency_space=_licensee)
def handler(request: Request[ActivateRequest]) -> Reply:
    result = activations.activate(
        request.body, source_ip=request.source_ip, user_agent=request.user_agent
    )
    return Reply(result.activation, status=201 if result.created else 200)
