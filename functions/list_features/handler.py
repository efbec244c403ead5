"""GET /products/{productId}/features: a product's features."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import FeatureList
from licensing_core.services import catalog


@endpoint("list_features")
def handler(request: Request[None]) -> FeatureList:
    return catalog.list_features(request.path["productId"])
