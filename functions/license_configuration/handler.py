"""GET /.well-known/license-configuration: the discovery document for clients."""

from licensing_core.http.endpoint import Reply, Request, endpoint
from licensing_core.services import discovery


@endpoint("license_configuration")
def handler(request: Request[None]) -> Reply:
    return Reply(
        discovery.license_configuration(request.base_url),
        headers={"cache-control": "public, max-age=300"},
    )
