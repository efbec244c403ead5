"""GET /products/{productId}/pricing: the public pricing view (by product id or code)."""

from licensing_core.http.endpoint import Reply, Request, endpoint
from licensing_core.services import catalog


@endpoint("pricing")
def handler(request: Request[None]) -> Reply:
    return Reply(
        catalog.pricing(request.path["productId"]),
        headers={"cache-control": "public, max-age=60"},
    )
