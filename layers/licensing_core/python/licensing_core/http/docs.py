"""The Swagger UI page for ``GET /docs``, loaded from a pinned CDN build with SRI."""

from __future__ import annotations

import base64
import hashlib

SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0"
BUNDLE_SRI = "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9"
CSS_SRI = "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I"

_INIT = (
    'window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", '
    "deepLinking: true, persistAuthorization: false});"
)
_INIT_HASH = base64.b64encode(hashlib.sha256(_INIT.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"script-src https://cdn.jsdelivr.net 'sha256-{_INIT_HASH}'; "
    "style-src https://cdn.jsdelivr.net; img-src 'self' data: https://cdn.jsdelivr.net; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Licensing service API</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css" integrity="{CSS_SRI}" crossorigin="anonymous">
</head>
<body>
<noscript>The interactive documentation needs JavaScript; the raw document is at
<a href="openapi.json">openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js" integrity="{BUNDLE_SRI}" crossorigin="anonymous"></script>
<script>{_INIT}</script>
</body>
</html>
"""
