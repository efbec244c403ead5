"""GET /license-keys: find licenses by product, tier, standing, identity, tenant, expiry."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import LicensePage
from licensing_core.services import search


@endpoint("search_licenses")
def handler(request: Request[None]) -> LicensePage:
    return search.find_licenses(request.query, tenant=request.tenant)
