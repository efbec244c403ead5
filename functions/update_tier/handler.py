"""PATCH /products/{productId}/tiers/{tierId}: change a tier."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Tier, TierUpdate
from licensing_core.services import catalog


@endpoint("update_tier")
def handler(request: Request[TierUpdate]) -> Tier:
    return catalog.update_tier(request.path["productId"], request.path["tierId"], request.body)
