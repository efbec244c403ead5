"""GET /products/{productId}/tiers/{tierId}: a tier with its resolved features."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Tier
from licensing_core.services import catalog


@endpoint("get_tier")
def handler(request: Request[None]) -> Tier:
    return catalog.get_tier(request.path["productId"], request.path["tierId"])
