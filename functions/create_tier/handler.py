"""POST /products/{productId}/tiers: add a pricing tier."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Tier, TierCreate
from licensing_core.services import catalog


@endpoint("create_tier")
def handler(request: Request[TierCreate]) -> Tier:
    return catalog.create_tier(request.path["productId"], request.body)
