"""GET /.well-known/jwks.json: the public keys that verify our tokens."""

from licensing_core.http.endpoint import Reply, Request, endpoint
from licensing_core.services import discovery


@endpoint("jwks")
def handler(request: Request[None]) -> Reply:
    return Reply(discovery.jwks(), headers={"cache-control": "public, max-age=300"})
