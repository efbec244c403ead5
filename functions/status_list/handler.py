"""GET /status-lists/{listId}: a signed status list (statuslist+jwt), cacheable."""

from licensing_core.domain.status_lists import TTL_SECONDS
from licensing_core.http.endpoint import Reply, Request, endpoint
from licensing_core.services import status_lists


@endpoint("status_list")
def handler(request: Request[None]) -> Reply:
    served = status_lists.serve(
        request.path["listId"], request.base_url, request.headers.get("if-none-match")
    )
    headers = {"cache-control": f"public, max-age={TTL_SECONDS}", "etag": served.etag}
    if served.token is None:
        return Reply("", headers=headers, status=304)
    return Reply(served.token, headers=headers)
