"""POST /products/{productId}/features: add a feature to a product."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Feature, FeatureCreate
from licensing_core.services import catalog


@endpoint("create_feature")
def handler(request: Request[FeatureCreate]) -> Feature:
    return catalog.create_feature(request.path["productId"], request.body)
