"""GET /user/activations: the caller's machines, across their licenses."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import OwnActivationPage
from licensing_core.services import self_service


@endpoint("user_activations")
def handler(request: Request[None]) -> OwnActivationPage:
    assert request.principal is not None  # an END_USER route: always authenticated
    return self_service.machines(request.principal, request.query)
