"""GET /products/{productId}: read one product."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Product
from licensing_core.services import catalog


@endpoint("get_product")
def handler(request: Request[None]) -> Product:
    return catalog.get_product(request.path["productId"])
