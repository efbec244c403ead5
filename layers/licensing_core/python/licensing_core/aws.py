"""boto3 clients built lazily from the settings (never at import time)."""

from __future__ import annotations

from typing import Any

from licensing_core.settings import get_settings, on_reset

_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """A cached boto3 client for ``service`` in the configured region and endpoint."""
    found = _clients.get(service)
    if found is None:
        import boto3  # deferred: most cold starts never need a raw client

        settings = get_settings()
        found = boto3.client(
            service,  # type: ignore[call-overload]
            region_name=settings.region,
            endpoint_url=settings.aws_endpoint_url,
        )
        _clients[service] = found
    return found


on_reset(_clients.clear)
