"""GET /products/{productId}/tiers: every tier of a product, resolved."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import TierList
from licensing_core.services import catalog


@endpoint("list_tiers")
def handler(request: Request[None]) -> TierList:
    return catalog.list_tiers(request.path["productId"])
