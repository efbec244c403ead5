"""GET /docs/{asset}: a file of the documentation page (Swagger UI's, served from here)."""

from licensing_core.http.docs import asset_response
from licensing_core.http.endpoint import Reply, Request, endpoint


@endpoint("docs_asset")
def handler(request: Request[None]) -> Reply:
    body, headers = asset_response(
        request.path["asset"], request.headers.get("accept-encoding", "")
    )
    return Reply(body, headers=headers)
