"""POST /license-activations/checkout: a machine file for an active machine."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import CheckoutRequest, MachineFile
from licensing_core.services import offline


@endpoint("checkout")
def handler(request: Request[CheckoutRequest]) -> MachineFile:
    return offline.checkout(request.body, request.base_url)
