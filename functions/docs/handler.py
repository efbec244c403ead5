"""GET /docs: interactive API documentation (Swagger UI)."""

from licensing_core.http.docs import CONTENT_SECURITY_POLICY, PAGE_CACHE_CONTROL, page
from licensing_core.http.endpoint import Reply, Request, endpoint


@endpoint("docs")
def handler(request: Request[None]) -> Reply:
    return Reply(
        page(),
        headers={
            "content-security-policy": CONTENT_SECURITY_POLICY,
            "cache-control": PAGE_CACHE_CONTROL,
        },
    )
