"""POST /user/activations/{activationId}/deactivate: free a seat of one's own license."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Deactivation
from licensing_core.services import self_service


@endpoint("user_deactivate")
def handler(request: Request[None]) -> Deactivation:
    assert request.principal is not None  # an END_USER route: always authenticated
    return self_service.deactivate_machine(
        request.principal, request.path["activationId"], request.actor
    )
