"""GET /products: list products, a page at a time."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import ProductPage
from licensing_core.services import catalog


@endpoint("list_products")
def handler(request: Request[None]) -> ProductPage:
    return catalog.list_products(request.query)
