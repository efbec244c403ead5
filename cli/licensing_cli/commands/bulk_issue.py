"""``licensing licenses issue --from FILE.csv``: every row checked before the first write.

1. read: every row parsed (columns, expiry); bad lines are reported together;
2. resolve: every row's product, tier and customer looked up through the API (ids,
   codes, emails in ``--tenant``); rows naming what does not exist, a deactivated
   customer, or (``--create-customers``) an identity the API would refuse, are reported
   together with their lines;
3. ``--dry-run`` stops here and prints what would be issued;
4. ``--create-customers``: identities for the emails that have none are created;
5. the licenses are issued, journaled (:mod:`licensing_cli.bulk`): a re-run skips rows
   already done.

Steps 1 and 2 fail with exit 2 and write nothing, not even the journal.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from licensing_cli import bulk
from licensing_cli.commands.common import expiry
from licensing_cli.context import Context
from licensing_cli.errors import Exit, UsageError
from licensing_cli.output import Col, ident
from licensing_cli.resolve import NotFound, Resolver, pages, segment

#: How far the server's clock may be from ours when reconciling an interrupted row.
CLOCK_SKEW = timedelta(minutes=5)
CSV_HELP = """\
bulk issue (--from FILE.csv): a header row, then one license per row; columns
  customer   customer id, or email (in --tenant)      aliases: customerId, email
  product    product id or code (else --product)      aliases: productId
  tier       tier id or code (else --tier)            aliases: tierId
  expiresAt  2027-01-31, a timestamp, +365d, or "perpetual" (else --expires)
  perpetual  true/yes/1 for a perpetual license (else --perpetual)
  name       the name of a customer --create-customers creates (default: its email)
Every row is read and its product, tier and customer looked up before anything is
written: bad rows are all reported with their line numbers (exit 2), nothing issued.
--dry-run stops there and prints what would be issued. --create-customers creates
the customers of rows naming an email that has none (after every row was looked up,
before the first license; in a tenant with a provisioning policy, that policy's
license comes with them).
Progress is journaled in FILE.csv.journal.jsonl (0600, holds the keys): run the same
command again after an interruption or a failed row, and done rows are skipped."""

_CSV_COLUMNS = {
    "customer": "customer",
    "customerid": "customer",
    "email": "customer",
    "product": "product",
    "productid": "product",
    "productcode": "product",
    "tier": "tier",
    "tierid": "tier",
    "tiercode": "tier",
    "expiresat": "expires",
    "expires": "expires",
    "expiry": "expires",
    "perpetual": "perpetual",
    "name": "name",
    "customername": "name",
}
_TRUE = ("1", "true", "yes", "y")
#: Keys of a row's data that the API answers (added by resolving).
_CUSTOMER_ID, _CREATE = "customerId", "createCustomer"


class _NoCustomer(NotFound):
    """A row's customer does not exist."""


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="bulk: check and look up every row, print what would be issued, write nothing",
    )
    parser.add_argument(
        "--create-customers",
        action="store_true",
        help="bulk: create the customers of rows naming an email that has none",
    )


def expiry_fields(expires: str | None, perpetual: bool, where: str) -> dict[str, Any]:
    """``{"expiresAt": ...}`` or ``{"perpetual": True}``, from an expiry or the flag."""
    if expires and expires.strip().lower() in ("perpetual", "never"):
        expires, perpetual = None, True
    if bool(expires) == perpetual:
        raise UsageError(f"{where}: give exactly one of an expiry and perpetual")
    return {"perpetual": True} if perpetual else {"expiresAt": expiry(expires or "")}


def read_csv(path: Path, args: argparse.Namespace) -> list[bulk.Item]:
    """One item per data row; every malformed row is reported (:class:`bulk.BadRows`)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            rows = list(csv.reader(stream))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UsageError(f"cannot read {path}: {error}") from error
    if not rows:
        raise UsageError(f"{path} is empty")
    header = [
        _CSV_COLUMNS.get(h.strip().lower().replace("_", "").replace(" ", "")) for h in rows[0]
    ]
    defaults = {"product": args.product, "tier": args.tier}
    for column in ("customer", "product", "tier"):
        if column not in header and not defaults.get(column):
            raise UsageError(f"{path}: no {column!r} column (nor --{column})", hint=CSV_HELP)
    now = datetime.now(UTC)
    items, problems = [], []
    for number, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        fields = {name: cell.strip() for name, cell in zip(header, row, strict=False) if name}
        refs = {
            key: fields.get(key) or defaults.get(key) or ""
            for key in ("customer", "product", "tier")
        }
        try:
            if not all(refs.values()):
                raise UsageError("customer, product and tier are required")
            when = expiry_fields(
                fields.get("expires") or args.expires,
                fields.get("perpetual", "").lower() in _TRUE or args.perpetual,
                f"line {number}",
            )
            if "expiresAt" in when and _moment(when["expiresAt"]) <= now:
                raise UsageError(f"the expiry {when['expiresAt']} is in the past")
        except UsageError as error:
            problems.append((number, str(error).removeprefix(f"line {number}: ")))
            continue
        data = {**refs, **when}
        if fields.get("name"):
            data["name"] = fields["name"]
        # what the row says, never what it computes to (+30d must give the same key tomorrow)
        asked = [fields.get("expires") or args.expires, fields.get("perpetual") or args.perpetual]
        key = bulk.row_key("issue", refs, asked, args.tenant)
        items.append(bulk.Item(number, key, refs["customer"], data))
    if problems:
        raise bulk.BadRows(path, problems, hint=CSV_HELP)
    return items


def _moment(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def resolve_rows(
    resolver: Resolver,
    source: Path,
    items: Sequence[bulk.Item],
    *,
    tenant: str,
    done: Mapping[str, Any],
    create: bool,
) -> list[bulk.Item]:
    """Every row not done yet with its ``productId``, ``tierId`` and ``customerId`` (None:
    a customer to create), looked up before anything is written; the rows that cannot be
    issued are all reported (:class:`bulk.BadRows`)."""
    resolved: list[bulk.Item] = []
    problems: list[tuple[int, str]] = []
    missing = False
    for item in items:
        if item.key in done:  # nothing left to do: nothing to look up
            resolved.append(item)
            continue
        try:
            resolved.append(_resolve_row(resolver, item, tenant, create))
        except (NotFound, UsageError) as error:
            problems.append((item.row, str(error)))
            missing = missing or (isinstance(error, _NoCustomer) and "@" in item.label)
    if problems:
        hint = "fix the file (or the catalog) and run the same command again"
        if missing and not create:
            hint += "; --create-customers creates the customers of emails that have none"
        raise bulk.BadRows(source, problems, hint)
    return resolved


def _resolve_row(resolver: Resolver, item: bulk.Item, tenant: str, create: bool) -> bulk.Item:
    data = dict(item.data)
    product_id = resolver.product(data["product"])
    data.update(productId=product_id, tierId=resolver.tier(product_id, data["tier"]))
    customer = resolver.find_customer(item.label, tenant)
    if customer is None and not (create and "@" in item.label):
        where = f"with email {item.label} in tenant {tenant}" if "@" in item.label else item.label
        raise _NoCustomer(f"no customer {where}")
    if customer is None:
        _check_creation(_creation_body(data, item.label, tenant))
        data.update({_CUSTOMER_ID: None, _CREATE: True})
    elif customer.get("status", "active") != "active":
        raise UsageError(f"customer {item.label} is {customer['status']}")
    else:
        data[_CUSTOMER_ID] = customer["customerId"]
    return replace(item, data=data)


def _creation_body(data: Mapping[str, Any], email: str, tenant: str) -> dict[str, Any]:
    return {"email": email, "name": data.get("name") or email, "tenantId": tenant}


def _check_creation(body: Mapping[str, Any]) -> None:
    """Refuse, before anything is written, an identity the API would refuse (its own
    request model decides)."""
    from licensing_core.schemas import CustomerCreate  # only here: pydantic takes a while
    from pydantic import ValidationError

    try:
        CustomerCreate.model_validate(body)
    except ValidationError as error:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise UsageError(f"cannot create customer {body['email']}: {reasons}") from None


def create_customers(
    ctx: Context, resolver: Resolver, items: Sequence[bulk.Item], tenant: str
) -> list[bulk.Item]:
    """Create the identities rows name by an email that has none (each once, however many
    rows name it, in any of its forms); the rows with their new ``customerId``."""
    created: list[str] = []
    result = []
    for item in items:
        if item.data.get(_CREATE):
            customer = resolver.find_customer(item.label, tenant)  # created for a row above?
            if customer is None:
                body = _creation_body(item.data, item.label, tenant)
                customer = ctx.api.post("/customers", body).data
                resolver.remember_customer(customer, tenant)
                created.append(f"{item.label} ({customer['customerId']}, line {item.row})")
            item = replace(item, data={**item.data, _CUSTOMER_ID: customer["customerId"]})
        result.append(item)
    if created:
        ctx.out.note(f"created {len(created)} customer(s): " + ", ".join(created))
    return result


def dry_run(ctx: Context, items: Sequence[bulk.Item], done: Mapping[str, Any]) -> int:
    """What the run would do, row by row; nothing is written."""
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for item in items:
        skipped = bulk.settled(item, done, seen)
        row = {"line": item.row, "input": item.label, **item.data}
        if skipped is None:
            row["status"] = "planned"
        else:
            row.update(skipped.result, status="skipped")
        rows.append(row)
        if ctx.out.json_mode:
            ctx.out.json_line(row)
    if not ctx.out.json_mode:
        ctx.out.table(
            rows,
            (
                Col("Line", "line"),
                Col("Input", "input"),
                Col("Status", "status"),
                ident("Customer id", _customer_column),
                Col("Product", "product"),
                Col("Tier", "tier"),
                Col("Expires", lambda r: "perpetual" if r.get("perpetual") else r.get("expiresAt")),
            ),
        )
    planned = [row for row in rows if row["status"] == "planned"]
    new = {row["input"] for row in planned if row.get(_CREATE)}
    ctx.out.note(
        f"dry run: {len(planned)} license(s) would be issued, {len(new)} customer(s) created, "
        f"{len(rows) - len(planned)} row(s) skipped (done or repeated); nothing was written"
    )
    return Exit.OK


def _customer_column(row: Mapping[str, Any]) -> str | None:
    return "(new)" if row.get(_CREATE) and not row.get(_CUSTOMER_ID) else row.get(_CUSTOMER_ID)


def issue_many(ctx: Context, args: argparse.Namespace) -> int:
    done, _ = bulk.Journal(args.source).state()
    resolver = Resolver(ctx.api)
    try:
        items = read_csv(args.source, args)
        items = resolve_rows(
            resolver,
            args.source,
            items,
            tenant=args.tenant,
            done=done,
            create=args.create_customers,
        )
    except bulk.BadRows as error:
        error.report(ctx.out)
        raise
    if args.dry_run:
        return dry_run(ctx, items, done)
    items = create_customers(ctx, resolver, items, args.tenant)
    known = {entry.get("result", {}).get("licenseId") for entry in done.values()}

    def body(item: bulk.Item) -> dict[str, Any]:
        fields = ("productId", "tierId", _CUSTOMER_ID, "expiresAt", "perpetual")
        return {k: item.data[k] for k in fields if k in item.data}

    def perform(item: bulk.Item) -> Mapping[str, Any]:
        headers = {"Idempotency-Key": item.key}
        key = ctx.api.post("/license-keys", body(item), headers=headers).data
        known.add(key["licenseId"])
        result = {k: key[k] for k in ("licenseId", "expiresAt", "keyToken")}
        return {**result, _CUSTOMER_ID: item.data[_CUSTOMER_ID]}

    def reconcile(item: bulk.Item, pending: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """A license of this customer, product and tier created since the row went out."""
        since = _moment(str(pending["at"])) - CLOCK_SKEW
        customer_id = item.data[_CUSTOMER_ID]
        for lic in pages(ctx.api, f"/customers/{segment(customer_id)}/license-keys"):
            if (
                lic["productId"] == item.data["productId"]
                and lic["tierId"] == item.data["tierId"]
                and lic["licenseId"] not in known
                and _moment(str(lic["createdAt"])) >= since
            ):
                known.add(lic["licenseId"])
                return {k: lic[k] for k in ("licenseId", "expiresAt", _CUSTOMER_ID)}
        return None

    operation = bulk.Operation(
        "issue",
        "issued",
        perform,
        reconcile,
        columns=(ident("License id", "licenseId"), Col("Expires", "expiresAt")),
    )
    return bulk.run(
        ctx.out, args.source, items, operation, keep_going=args.keep_going, explain=ctx.describe
    )
