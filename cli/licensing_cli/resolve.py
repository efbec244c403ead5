"""Let people name things as they know them: a product or tier by code, a customer by
email; ids pass through. Lookups are cached for the life of one command."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from licensing_core.domain.emails import InvalidEmail, email_key

from licensing_cli.client import ApiClient, ApiError
from licensing_cli.errors import CliError, Exit

DEFAULT_TENANT = "default"


class NotFound(CliError):
    """A name that matches nothing (exit 1, like the API's 404)."""

    exit_code = Exit.REFUSED


def segment(value: str) -> str:
    """``value`` as one URL path segment."""
    return quote(value, safe="")


def pages(api: ApiClient, path: str, limit: int = 100) -> Iterator[dict[str, Any]]:
    """Every item of a paged collection (``items`` + ``nextCursor``)."""
    cursor: str | None = None
    while True:
        data = api.get(path, limit=limit, cursor=cursor).data
        yield from data.get("items", [])
        cursor = data.get("nextCursor")
        if not cursor:
            return


class Resolver:
    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self._products: dict[str, str] = {}
        self._tiers: dict[str, list[dict[str, Any]]] = {}
        self._customers: dict[tuple[str, str], str] = {}

    def product(self, ref: str) -> str:
        """The product id of an id or a code."""
        if ref not in self._products:
            self._products[ref] = self._product(ref)
        return self._products[ref]

    def _product(self, ref: str) -> str:
        try:
            return str(self.api.get(f"/products/{segment(ref)}").data["productId"])
        except ApiError as error:
            if error.status != 404:
                raise
        for item in pages(self.api, "/products"):
            if item.get("code") == ref:
                return str(item["productId"])
        raise NotFound(f"no product with id or code {ref!r}", hint="see `licensing products list`")

    def tiers(self, product_id: str) -> list[dict[str, Any]]:
        """Every tier of a product, resolved (cached)."""
        if product_id not in self._tiers:
            data = self.api.get(f"/products/{segment(product_id)}/tiers").data
            self._tiers[product_id] = list(data.get("items", []))
        return self._tiers[product_id]

    def tier(self, product_id: str, ref: str) -> str:
        """The tier id of an id or a code, within a product."""
        for item in self.tiers(product_id):
            if ref in (item.get("tierId"), item.get("code")):
                return str(item["tierId"])
        raise NotFound(
            f"no tier {ref!r} in product {product_id}",
            hint=f"see `licensing tiers list {product_id}`",
        )

    def customer(self, ref: str, tenant: str = DEFAULT_TENANT) -> str:
        """The customer id of an id, or of an email within ``tenant`` (in any of its
        forms: matched by key, as the service does)."""
        if "@" not in ref:
            return ref
        key = (tenant, _key(ref))
        if key not in self._customers:
            for item in pages(self.api, f"/tenants/{segment(tenant)}/customers"):
                self._customers[(tenant, _key(str(item.get("email", ""))))] = item["customerId"]
            if key not in self._customers:
                raise NotFound(
                    f"no customer with email {ref} in tenant {tenant}",
                    hint="create it with `licensing customers create`, or pass --tenant",
                )
        return self._customers[key]


def _key(email: str) -> str:
    """The key the service gives an email (an invalid one is matched as written)."""
    try:
        return email_key(email)
    except InvalidEmail:
        return email
