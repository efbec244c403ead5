"""POST /products: create a product."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import Product, ProductCreate
from licensing_core.services import catalog


@endpoint("create_product")
def handler(request: Request[ProductCreate]) -> Product:
    return catalog.create_product(request.body)
