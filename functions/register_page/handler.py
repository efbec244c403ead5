"""GET /register?product=..&tier=..: the self-service registration page (HTML)."""

from licensing_core.http import pages
from licensing_core.http.endpoint import Reply, Request, endpoint
from licensing_core.schemas import RegisterPageQuery
from licensing_core.services import registration


@pages.html_errors(registration.find_offer, always=True)
@endpoint("register_page")
def handler(request: Request[None]) -> Reply:
    query: RegisterPageQuery = request.query
    return pages.page(registration.offer(query.product, query.tier))
