"""POST /license-activations/borrow: borrow the machine's seat for offline use."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import BorrowRequest, MachineFile
from licensing_core.services import offline


@endpoint("borrow_seat")
def handler(request: Request[BorrowRequest]) -> MachineFile:
    return offline.borrow(request.body, request.base_url)
