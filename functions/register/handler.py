"""POST /register: a pending license claim, and the identity provider invites the user.

JSON in, 202 JSON out; a browser's form post (``application/x-www-form-urlencoded``,
preferring HTML) gets the registration page in its success or error state instead.
"""

from licensing_core.http import pages
from licensing_core.http.endpoint import Reply, Request, endpoint
from licensing_core.schemas import RegisterRequest, RegistrationAccepted
from licensing_core.services import registration


@pages.html_errors(registration.find_offer)
@endpoint("register")
def handler(request: Request[RegisterRequest]) -> RegistrationAccepted | Reply:
    registered = registration.register(request.body, request.source_ip)
    if not pages.wants_html(request.headers):
        return registered.accepted
    state = pages.PageState(
        kind="success",
        message="Registration received: check your email.",
        values={"email": request.body.email},
        expires_at=registered.accepted.expires_at,
    )
    return pages.page(registered.offer, state, status=202)
