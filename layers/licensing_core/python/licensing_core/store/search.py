"""Finding licenses and identities by what people know of them: the search indexes'
queries (``domain/search`` says which index serves which filters).

Every search page is a bounded number of Queries and at most one BatchGetItem, never a
Scan: each Query examines at most the page size (DynamoDB's ``Limit`` counts items
before filters), so a page may come back short, or empty, with a cursor that goes on.

Licenses: one page reads several partitions (an index's states and shards, or several
identities' licenses) in parallel and merges them by their unique sort value. The cursor
is the last sort value returned: the next page reads, in every partition, only what
sorts after it, so no license is returned twice and none that existed before the first
page is skipped, whatever is written between pages (a license whose expiry is renewed
between pages moves to its new place, and may be met there again). A partition that
stopped at its examined limit bounds the page: nothing past the lowest such stop is
returned, and the cursor resumes from it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.pagination import ResultIterator

from licensing_core.domain import search
from licensing_core.domain.errors import InvalidRequest
from licensing_core.jose import b64url_encode
from licensing_core.store.errors import storage_errors
from licensing_core.store.models import CustomerRecord, LicenseRecord
from licensing_core.store.pages import cursor_document

M = TypeVar("M", bound=Model)

#: Partitions read at once (an unfiltered product search reads 4 states x 4 shards).
PARALLEL_QUERIES = 8
#: Identities one email may name across tenants in a license search (one per tenant).
MAX_EMAIL_IDENTITIES = 25
#: Index key values are at most 1024 bytes: a cursor's strings stay well within that.
_MAX_KEY_BYTES = 1024
#: What a license sort value or an id is made of (``<moment>#<id>``): printable ASCII.
_ASCII_KEY = re.compile(r"^[\x21-\x7e]{1,256}$")


# Cursors: opaque, versioned, checked field by field


def _encode(document: dict[str, Any]) -> str:
    text = json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return b64url_encode(text.encode())


def _invalid() -> InvalidRequest:
    return InvalidRequest("the cursor is not valid for this listing", code="INVALID_CURSOR")


def _decode(cursor: str | None, fields: dict[str, type]) -> dict[str, Any] | None:
    """The cursor's document, if it has exactly ``fields`` of those types (bools are not
    ints) and strings that fit an index key; else 400 ``INVALID_CURSOR``."""
    if cursor is None:
        return None
    document = cursor_document(cursor)
    if (
        not isinstance(document, dict)
        or set(document) != set(fields)
        or not all(
            type(document[name]) is kind
            and (kind is not str or len(document[name].encode()) <= _MAX_KEY_BYTES)
            for name, kind in fields.items()
        )
    ):
        raise _invalid()
    return document


@dataclass(frozen=True)
class LicenseCursor:
    """Where a license listing goes on: after this sort value, with the clock of its
    first page (so ``active`` and ``expired`` mean the same on every page)."""

    after: str
    now: int

    def encode(self) -> str:
        return _encode({"v": 1, "a": self.after, "n": self.now})

    @classmethod
    def decode(cls, cursor: str | None) -> LicenseCursor | None:
        document = _decode(cursor, {"v": int, "a": str, "n": int})
        if document is None:
            return None
        if (
            document["v"] != 1
            or not _ASCII_KEY.match(document["a"])
            or not 0 <= document["n"] <= 253_402_300_799
        ):
            raise _invalid()
        return cls(document["a"], document["n"])

    @property
    def moment(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


# Reading one page of many partitions


def _first_page(
    results: ResultIterator[M], model: type[M]
) -> tuple[list[M], dict[str, Any] | None]:
    """The items of the first DynamoDB page of a query (one call, never more), and the
    key it stopped at, if it stopped before the end."""
    page = next(results.page_iter)
    items = [model.from_raw_data(item) for item in page.get("Items", [])]
    last = page.get("LastEvaluatedKey")
    return items, last


def _successor(value: str) -> str:
    """The least value sorting after ``value``: sort values are printable and hold no
    space, so nothing lies between ``value`` and ``value + " "``."""
    return f"{value} "


def _range(attribute: Attribute[str], lower: str | None, upper: str | None) -> Condition | None:
    """``lower <= attribute < upper`` for sort values ``<moment>#<id>`` and bounds that are
    bare moments or successors (no value equals an upper bound, so BETWEEN is exact)."""
    if lower is not None and upper is not None:
        return attribute.between(lower, upper)
    if lower is not None:
        return attribute >= lower
    if upper is not None:
        return attribute < upper
    return None


@dataclass(frozen=True)
class _Sorted:
    """A query of one index, by partition, over a string sort attribute."""

    index: GlobalSecondaryIndex[LicenseRecord]
    sort: Attribute[str]

    def merged(
        self,
        partitions: Sequence[str],
        *,
        lower: str | None,
        upper: str | None,
        after: str | None,
        condition: Condition | None,
        limit: int,
    ) -> tuple[list[LicenseRecord], str | None]:
        """Up to ``limit`` matching items sorting after ``after``, in sort order, over
        ``partitions`` (one Query each, in parallel), and the sort value to go on after
        (None: nothing more)."""
        if after is not None:
            lower = max(lower or "", _successor(after))
        if not partitions or (lower is not None and upper is not None and lower > upper):
            return [], None
        key_range = _range(self.sort, lower, upper)
        name = self.sort.attr_name

        def read(partition: str) -> tuple[list[LicenseRecord], str | None]:
            results = self.index.query(
                partition,
                range_key_condition=key_range,
                filter_condition=condition,
                page_size=limit,
            )
            items, last = _first_page(results, LicenseRecord)
            return items, None if last is None else str(last[name]["S"])

        with storage_errors():
            if len(partitions) == 1:
                pages = [read(partitions[0])]
            else:
                LicenseRecord._get_connection()  # bound once, before the threads share it
                workers = min(PARALLEL_QUERIES, len(partitions))
                with ThreadPoolExecutor(
                    max_workers=workers
                ) as pool:  # each in the caller's context
                    futures = [pool.submit(copy_context().run, read, p) for p in partitions]
                    pages = [future.result() for future in futures]
        stops = [stop for _, stop in pages if stop is not None]
        frontier = min(stops, default=None)
        found = sorted(
            (item for items, _ in pages for item in items),
            key=lambda item: str(getattr(item, name)),
        )
        if frontier is not None:
            found = [item for item in found if str(getattr(item, name)) <= frontier]
        if len(found) > limit:
            return found[:limit], str(getattr(found[limit - 1], name))
        return found, frontier


_BY_PRODUCT = _Sorted(LicenseRecord.by_product_expiry, LicenseRecord.search_expiry)
_BY_TENANT = _Sorted(LicenseRecord.by_tenant_expiry, LicenseRecord.search_expiry)
_BY_CUSTOMER = _Sorted(LicenseRecord.by_customer, LicenseRecord.license_id)


def _filters(criteria: search.LicenseCriteria, *, index: str) -> Condition | None:
    """What the index's keys do not decide, as a filter on its projected attributes."""
    parts: list[Condition] = []
    if criteria.product_id is not None and index != "product":
        parts.append(LicenseRecord.product_id == criteria.product_id)
    if criteria.tier_id is not None:
        parts.append(LicenseRecord.tier_id == criteria.tier_id)
    if criteria.tenant_id is not None and index != "tenant":
        parts.append(LicenseRecord.tenant_id == criteria.tenant_id)
    if index == "customer":  # state and expiry are not in this index's keys
        if criteria.standing is not None:
            parts.append(_STATE_FILTERS[criteria.standing])
        lower, upper = criteria.bounds()
        expiry = _range(LicenseRecord.search_expiry, lower, upper)
        if expiry is not None:
            parts.append(expiry)
    return _all(parts)


#: A standing as a filter on the stored status (``expired``: with the expiry bound).
_STATE_FILTERS: dict[str, Condition] = {
    "active": LicenseRecord.status == "active",
    "expired": LicenseRecord.status == "active",
    "suspended": LicenseRecord.status == "suspended",
    "revoked": (LicenseRecord.status == "revoked") & LicenseRecord.superseded_by.does_not_exist(),
    "superseded": (LicenseRecord.status == "revoked") & LicenseRecord.superseded_by.exists(),
}


def _all(parts: list[Condition]) -> Condition | None:
    condition = None
    for part in parts:
        condition = part if condition is None else condition & part
    return condition


def licenses_page(
    criteria: search.LicenseCriteria,
    index: search.LicenseIndex,
    *,
    scope: str | None,
    after: str | None,
    limit: int,
) -> tuple[list[LicenseRecord], str | None]:
    """One page of licenses matching ``criteria`` from ``index`` (``scope``: the product
    or tenant whose partitions it reads), full records in sort order, and the sort value
    to go on after. Index reads trail writes: every license is checked again against its
    record, and left out when it no longer matches."""
    if index == "customer":
        ids = sorted(criteria.customer_ids or ())
        found, next_after = _BY_CUSTOMER.merged(
            ids,
            lower=None,
            upper=None,
            after=after,
            condition=_filters(criteria, index=index),
            limit=limit,
        )
        records = found  # this index projects every attribute
    else:
        if scope is None:
            raise ValueError(f"the {index} index needs a scope")
        lower, upper = criteria.bounds()
        found, next_after = (_BY_PRODUCT if index == "product" else _BY_TENANT).merged(
            search.partitions(scope, criteria.states()),
            lower=lower,
            upper=upper,
            after=after,
            condition=_filters(criteria, index=index),
            limit=limit,
        )
        records = _full(found)
    kept = [record for record in records if _still_matches(criteria, record)]
    return kept, next_after


def _full(found: list[LicenseRecord]) -> list[LicenseRecord]:
    """The whole records of index items, in their order (one BatchGetItem: pages hold at
    most 100)."""
    if not found:
        return []
    with storage_errors():
        by_id = {r.license_id: r for r in LicenseRecord.batch_get([f.license_id for f in found])}
    return [by_id[f.license_id] for f in found if f.license_id in by_id]


def _still_matches(criteria: search.LicenseCriteria, record: LicenseRecord) -> bool:
    return criteria.matches(
        product_id=record.product_id,
        tier_id=record.tier_id,
        tenant_id=record.tenant_id,
        customer_id=record.customer_id,
        standing_now=search.standing(
            record.status, record.superseded_by, record.expires_at, criteria.now
        ),
        sort_value=search.expiry_sort(record.expires_at, record.perpetual, record.license_id),
    )


# Identities


def identities_with_email(key: str, tenant_id: str | None) -> list[CustomerRecord] | None:
    """The identities of an email key (one per tenant), in ``tenant_id`` only when given;
    None when there are more than :data:`MAX_EMAIL_IDENTITIES`."""
    with storage_errors():
        results = CustomerRecord.by_email.query(
            key,
            range_key_condition=None
            if tenant_id is None
            else CustomerRecord.tenant_id == tenant_id,
            page_size=MAX_EMAIL_IDENTITIES,
        )
        items, last = _first_page(results, CustomerRecord)
    return items if last is None else None


@dataclass(frozen=True)
class CustomerCursor:
    """Where an identity listing goes on: its phase (0: the email index, 1: names for
    ``q``), and the sort value and id of the last identity it examined (both empty: the
    phase's start)."""

    phase: int
    sort: str = ""
    customer_id: str = ""

    def encode(self) -> str:
        return _encode({"v": 1, "p": self.phase, "s": self.sort, "c": self.customer_id})

    @classmethod
    def decode(cls, cursor: str | None) -> CustomerCursor | None:
        document = _decode(cursor, {"v": int, "p": int, "s": str, "c": str})
        if document is None:
            return None
        if (
            document["v"] != 1
            or document["p"] not in (0, 1)
            or bool(document["s"]) != bool(document["c"])
            or (document["c"] and not _ASCII_KEY.match(document["c"]))
        ):
            raise _invalid()
        return cls(document["p"], document["s"], document["c"])

    @property
    def start(self) -> tuple[str, str] | None:
        return (self.sort, self.customer_id) if self.sort else None


@dataclass(frozen=True)
class _Phase:
    """One index of an identity listing: which, its partition and what it matches."""

    index: GlobalSecondaryIndex[CustomerRecord]
    hash_name: str
    sort: Attribute[str]
    partition: str
    key_range: Condition | None
    condition: Condition | None
    #: Whether a sort value lies in ``key_range`` (DynamoDB refuses a start key outside).
    within: Callable[[str], bool] = lambda _: True

    def page(
        self, start: tuple[str, str] | None, limit: int
    ) -> tuple[list[CustomerRecord], tuple[str, str] | None]:
        """One Query from after ``start`` (sort value, id): the matches and where it
        stopped (None: the end)."""
        exclusive_start = None
        if start is not None and not self.within(start[0]):
            raise _invalid()
        if start is not None:  # rebuilt from checked strings, in this phase's partition
            exclusive_start = {
                self.hash_name: {"S": self.partition},
                self.sort.attr_name: {"S": start[0]},
                "customer_id": {"S": start[1]},
            }
        with storage_errors():
            results = self.index.query(
                self.partition,
                range_key_condition=self.key_range,
                filter_condition=self.condition,
                page_size=limit,
                last_evaluated_key=exclusive_start,
            )
            items, last = _first_page(results, CustomerRecord)
        if last is None:
            return items, None
        return items, (str(last[self.sort.attr_name]["S"]), str(last["customer_id"]["S"]))


def _customer_filters(status: str | None, kind: str | None) -> list[Condition]:
    parts: list[Condition] = []
    if status is not None:
        parts.append(CustomerRecord.status == status)
    if kind is not None:
        parts.append(CustomerRecord.kind == kind)
    return parts


def customers_page(
    *,
    email_key: str | None,
    tenant_id: str | None,
    prefix: str | None,
    status: str | None,
    kind: str | None,
    cursor: CustomerCursor | None,
    limit: int,
) -> tuple[list[CustomerRecord], CustomerCursor | None]:
    """One page of identities: by email key (every tenant, or ``tenant_id``), else the
    tenant's by email key, then, for a ``prefix`` (folded ``q``), by name (those whose
    email has the prefix too were listed by email already). At most two Queries."""
    filters = _customer_filters(status, kind)
    phases: list[_Phase] = []
    if email_key is not None:
        if prefix is not None:
            filters.append(
                CustomerRecord.email_key.startswith(prefix)
                | CustomerRecord.name_key.startswith(prefix)
            )
        phases.append(
            _Phase(
                CustomerRecord.by_email,
                "email_key",
                CustomerRecord.tenant_id,
                email_key,
                None if tenant_id is None else CustomerRecord.tenant_id == tenant_id,
                _all(filters),
                lambda sort: tenant_id in (None, sort),
            )
        )
    elif tenant_id is not None:
        email_range = None if prefix is None else CustomerRecord.email_key.startswith(prefix)
        phases.append(
            _Phase(
                CustomerRecord.by_tenant_email,
                "tenant_id",
                CustomerRecord.email_key,
                tenant_id,
                email_range,
                _all(filters),
                lambda sort: prefix is None or sort.startswith(prefix),
            )
        )
        if prefix is not None:
            not_by_email = ~CustomerRecord.email_key.startswith(prefix)
            phases.append(
                _Phase(
                    CustomerRecord.by_tenant_name,
                    "tenant_id",
                    CustomerRecord.name_key,
                    tenant_id,
                    CustomerRecord.name_key.startswith(prefix),
                    _all([*filters, not_by_email]),
                    lambda sort: sort.startswith(prefix),
                )
            )
    else:
        raise ValueError("an identity listing needs an email key or a tenant")
    if cursor is not None and cursor.phase >= len(phases):
        raise _invalid()
    number = 0 if cursor is None else cursor.phase
    start = None if cursor is None else cursor.start
    found: list[CustomerRecord] = []
    while number < len(phases):
        items, stop = phases[number].page(start, limit - len(found))
        found += items
        if stop is not None:
            return found, CustomerCursor(number, *stop)
        number, start = number + 1, None
        if len(found) >= limit and number < len(phases):
            return found, CustomerCursor(number)
    return found, None


# Backfill: search keys of records written before the indexes existed

#: How activation words a sibling's revocation (``services/activations``): a license
#: revoked so before ``superseded_by`` existed is superseded.
_SUPERSEDED_REASON = re.compile(r"^superseded by activation of (\S+)$")


def backfill(log: Callable[[str], None] = print, page_size: int = 100) -> dict[str, int]:
    """Give every license and identity that lacks them its search keys (a maintenance
    job, run once after deploying the indexes: it scans both tables, so never on a
    request path). Each write is conditional on the record being unchanged in what the
    keys derive from; a record changed meanwhile already has its keys."""
    written = {"licenses": 0, "customers": 0}
    with storage_errors():
        for license in LicenseRecord.scan(
            LicenseRecord.search_expiry.does_not_exist(), page_size=page_size
        ):
            actions: list[Action] = []
            earlier = _SUPERSEDED_REASON.match(license.status_reason or "")
            if license.status == "revoked" and earlier and license.superseded_by is None:
                license.superseded_by = earlier.group(1)
                actions.append(LicenseRecord.superseded_by.set(license.superseded_by))
            license.update(
                actions=[*actions, *license.search_actions()],
                condition=(LicenseRecord.status == license.status)
                & (LicenseRecord.expires_at == license.expires_at),
            )
            written["licenses"] += 1
        for customer in CustomerRecord.scan(
            CustomerRecord.email_key.does_not_exist(), page_size=page_size
        ):
            customer.save(condition=CustomerRecord.updated_at == customer.updated_at)
            written["customers"] += 1
    log(f"search keys written: {written['licenses']} licenses, {written['customers']} identities")
    return written


if __name__ == "__main__":  # python -m licensing_core.store.search backfill
    import sys

    if sys.argv[1:] != ["backfill"]:
        raise SystemExit("usage: python -m licensing_core.store.search backfill")
    backfill()
