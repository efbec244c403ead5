"""Let people name things as they know them: a product or tier by code, a customer by
email; ids pass through. Lookups are cached for the life of one command."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from licensing_core.domain.emails import email_key
from licensing_core.domain.errors import InvalidEmail

from licensing_cli.client import ApiClient, ApiError
from licensing_cli.errors import CliError, Exit

DEFAULT_TENANT = "default"


class NotFound(CliError):
    """A name that matches nothing (exit 1, like the API's 404)."""

    exit_code = Exit.REFUSED


def segment(value: str) -> str:
    """``value`` as one URL path segment."""
    return quote(value, safe="")


def pages(
    api: ApiClient, path: str, limit: int = 100, params: Mapping[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Every item of a paged collection (``items`` + ``nextCursor``), with query
    ``params`` (a search's filters) on every page."""
    cursor: str | None = None
    while True:
        data = api.get(path, limit=limit, cursor=cursor, **(params or {})).data
        yield from data.get("items", [])
        cursor = data.get("nextCursor")
        if not cursor:
            return


class Resolver:
    """Lookups of one command, each made once: a name that matches nothing is not
    looked up again, and a tenant's identities are listed once (the API finds an identity
    by id, not by email)."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self._products: dict[str, str | None] = {}
        self._tiers: dict[str, list[dict[str, Any]]] = {}
        self._customers: dict[tuple[str, str], dict[str, Any]] = {}  #: by (tenant, email key)
        self._listed: set[str] = set()  #: tenants whose identities are all in _customers
        self._by_id: dict[str, dict[str, Any] | None] = {}

    def product(self, ref: str) -> str:
        """The product id of an id or a code."""
        if ref not in self._products:
            self._products[ref] = self._product(ref)
        product_id = self._products[ref]
        if product_id is None:
            raise NotFound(
                f"no product with id or code {ref!r}", hint="see `licensing products list`"
            )
        return product_id

    def _product(self, ref: str) -> str | None:
        try:
            return str(self.api.get(f"/products/{segment(ref)}").data["productId"])
        except ApiError as error:
            if error.status != 404:
                raise
        for item in pages(self.api, "/products"):
            if item.get("code") == ref:
                return str(item["productId"])
        return None

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
        """The customer id of an id (as given: the API says whether it exists), or of an
        email within ``tenant`` (in any of its forms: matched by key, as the service does)."""
        if "@" not in ref:
            return ref
        record = self._by_email(ref, tenant)
        if record is None:
            raise NotFound(
                f"no customer with email {ref} in tenant {tenant}",
                hint="create it with `licensing customers create`, or pass --tenant",
            )
        return str(record["customerId"])

    def find_customer(self, ref: str, tenant: str = DEFAULT_TENANT) -> dict[str, Any] | None:
        """The identity an id or an email (within ``tenant``) names, as the API shows it;
        None when there is none. For checking input before anything is written."""
        if "@" in ref:
            return self._by_email(ref, tenant)
        if ref not in self._by_id:
            try:
                self._by_id[ref] = self.api.get(f"/customers/{segment(ref)}").data
            except ApiError as error:
                if error.status != 404:
                    raise
                self._by_id[ref] = None
        return self._by_id[ref]

    def remember_customer(self, record: dict[str, Any], tenant: str) -> None:
        """An identity of ``tenant`` (e.g. just created): lookups of its email find it."""
        self._customers[(tenant, _key(str(record.get("email", ""))))] = record

    def _by_email(self, email: str, tenant: str) -> dict[str, Any] | None:
        if tenant not in self._listed:
            for item in pages(self.api, f"/tenants/{segment(tenant)}/customers"):
                self.remember_customer(item, tenant)
            self._listed.add(tenant)
        return self._customers.get((tenant, _key(email)))


def _key(email: str) -> str:
    """The key the service gives an email (an invalid one is matched as written)."""
    try:
        return email_key(email)
    except InvalidEmail:
        return email
