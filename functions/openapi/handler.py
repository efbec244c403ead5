"""GET /openapi.json: the committed OpenAPI document of this API."""

from licensing_core.http.endpoint import Reply, Request, endpoint
from licensing_core.openapi import committed


@endpoint("openapi")
def handler(request: Request[None]) -> Reply:
    return Reply(committed(), headers={"cache-control": "public, max-age=300"})
