"""``licensing licenses``: issue (one, or many from a CSV), show, list, revoke, suspend,
reinstate, renew, regenerate, audit, history."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from rich.text import Text

from licensing_cli import bulk
from licensing_cli.commands import bulk_issue
from licensing_cli.commands.common import Registry, add_paging, expiry, show_page
from licensing_cli.context import Context
from licensing_cli.errors import Exit, UsageError
from licensing_cli.output import Col, ident, text
from licensing_cli.resolve import DEFAULT_TENANT, segment

COLUMNS = (
    ident("License id", "licenseId"),
    Col("Product", "productCode"),
    Col("Tier", "tierId"),
    Col("Status", "status"),
    Col("Expires", lambda lic: "perpetual" if lic.get("perpetual") else lic.get("expiresAt")),
    Col("Seats in use", "activeSeats"),
)
RECORD = (
    Col("License id", "licenseId"),
    Col("Status", "status"),
    Col("Why", lambda lic: _status_note(lic.get("statusNote"))),
    Col("Product", lambda lic: f"{lic.get('productCode')} ({lic.get('productId')})"),
    Col("Tier", "tierId"),
    Col("Customer", "customerId"),
    Col("Tenant", "tenantId"),
    Col("Expires", lambda lic: "never (perpetual)" if lic.get("perpetual") else lic["expiresAt"]),
    Col("Seats in use", "activeSeats"),
    Col("Key generation", "generation"),
    Col("Created", "createdAt"),
    Col("Updated", "updatedAt"),
)
#: A search's rows: whose each license is, and its standing (``expired``: past expiry).
FOUND = (
    ident("License id", "licenseId"),
    Col("Customer", "customerId"),
    Col("Product", "productCode"),
    Col("Tier", "tierId"),
    Col("Status", lambda lic: lic.get("standing") or lic.get("status")),
    Col("Expires", lambda lic: "perpetual" if lic.get("perpetual") else lic.get("expiresAt")),
    Col("Seats in use", "activeSeats"),
)
STANDINGS = ("active", "suspended", "revoked", "superseded", "expired")
KEY_RECORD = (Col("License id", "licenseId"), Col("Expires", "expiresAt"))
ISSUED_RECORD = (*KEY_RECORD, Col("Customer", lambda key: _customer_of(key)))
HISTORY = (
    Col("At", "at"),
    Col("Action", "action", "bold"),
    Col("Actor", "actor"),
    Col("Reason", "reason"),
    Col("Details", "details"),
)


def _customer_of(key: Mapping[str, Any]) -> str | None:
    """Whose new license it is; ``(created)`` when the API made the identity for it."""
    customer = key.get("customerId")
    return f"{customer} (created)" if customer and key.get("customerCreated") else customer


def _status_note(note: Mapping[str, Any] | None) -> str | None:
    if not note:
        return None
    return (
        f"{note.get('reason') or 'no reason given'} (by {note.get('by')}, {text(note.get('at'))})"
    )


def register(cli: Registry) -> None:
    group = cli.group("licenses", "License keys: issue, inspect, change, audit")
    issue_cmd = cli.command(
        group, "issue", issue, "Issue a license key (or many: --from)", bulk_issue.CSV_HELP
    )
    issue_cmd.add_argument(
        "--customer", help="customer id or email (an email without one gets a new identity)"
    )
    issue_cmd.add_argument("--product", help="product id or code")
    issue_cmd.add_argument("--tier", help="tier id or code")
    issue_cmd.add_argument("--expires", help="2027-01-31, a timestamp, +365d")
    issue_cmd.add_argument("--perpetual", action="store_true", help="a 100-year license")
    issue_cmd.add_argument("--tenant", default=DEFAULT_TENANT, help="tenant of emails")
    issue_cmd.add_argument("--idempotency-key", help="sent as the Idempotency-Key header")
    _bulk_options(issue_cmd, "CSV")
    bulk_issue.add_options(issue_cmd)

    show_cmd = cli.command(group, "show", show, "Show a license")
    show_cmd.add_argument("license", help="license id")
    list_cmd = cli.command(
        group,
        "list",
        list_,
        "Find licenses by customer, product, tier, status, tenant and expiry",
        "Start from a customer, a product or a tenant (tenant administrators: their own);\n"
        "the other options narrow it. Soonest expiry first; a page may hold fewer than\n"
        "--limit (each examines a bounded part of the index): --all follows every page.\n"
        "e.g. licensing licenses list --product App --tier pro --status active \\\n"
        "       --expires-after 2026-12-01 --expires-before 2027-01-01",
    )
    list_cmd.add_argument("--customer", help="customer id, or email (in every tenant)")
    list_cmd.add_argument("--product", help="product id or code")
    list_cmd.add_argument("--tier", help="tier id, or code (with --product)")
    list_cmd.add_argument("--status", choices=STANDINGS, help="expired: active, past expiry")
    list_cmd.add_argument("--tenant", help="tenant id")
    for bound, help in (("after", "at or after"), ("before", "strictly before")):
        list_cmd.add_argument(
            f"--expires-{bound}",
            help=f"expiry {help}: 2027-01-31 (its first second), a timestamp, +30d",
        )
    add_paging(list_cmd)

    revoke_cmd = cli.command(group, "revoke", revoke, "Revoke licenses for good (idempotent)")
    revoke_cmd.add_argument("license", nargs="*", help="license id(s)")
    revoke_cmd.add_argument("--reason", required=True)
    _bulk_options(revoke_cmd, "IDS.txt")
    for name, help, reason in (
        ("suspend", "Suspend a license (reversible)", True),
        ("reinstate", "Reinstate a suspended license", False),
    ):
        command = cli.command(group, name, _status_change(name), help)
        command.add_argument("license", help="license id")
        command.add_argument("--reason", required=reason)

    renew_cmd = cli.command(group, "renew", renew, "Extend a license; prints the new key")
    renew_cmd.add_argument("license", help="license id")
    renew_cmd.add_argument("--expires", required=True, help="2027-01-31, a timestamp, +365d")
    regen_cmd = cli.command(group, "regenerate", regenerate, "Sign a new key from the catalog")
    regen_cmd.add_argument("license", help="license id")
    regen_cmd.add_argument(
        "--revoke-previous", action="store_true", help="earlier keys validate as SUPERSEDED"
    )
    audit_cmd = cli.command(
        group,
        "audit",
        audit,
        "Compare a key's claims with the database",
        "exit codes: 0 consistent (or encrypted: a JWE cannot be compared), 6 drift found,\n"
        "else as every command (licensing --help)",
    )
    audit_cmd.add_argument("license", help="license id")
    source = audit_cmd.add_mutually_exclusive_group()
    source.add_argument("--key", dest="key_token", help="a key to audit (default: the last one)")
    source.add_argument("--key-file", type=Path, help="read the key to audit from a file")
    history_cmd = cli.command(group, "history", history, "A license's audit trail, newest first")
    history_cmd.add_argument("license", help="license id")
    add_paging(history_cmd)


def _bulk_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--from", dest="source", type=Path, metavar=what, help="bulk input file")
    parser.add_argument(
        "--keep-going", action="store_true", help="bulk: go on past failed rows (default: stop)"
    )


def _path(license_id: str, action: str = "") -> str:
    return f"/license-keys/{segment(license_id)}" + (f"/{action}" if action else "")


def _render_license(ctx: Context, title: str) -> Callable[[Any], None]:
    return lambda data: ctx.out.record(data, RECORD, title=title)


def _render_key(
    ctx: Context, title: str, columns: tuple[Col, ...] = KEY_RECORD
) -> Callable[[Any], None]:
    def render(data: Any) -> None:
        ctx.out.record(data, columns, title=title)
        ctx.out.print(Text("License key (give it to the customer):", style="bold"))
        ctx.out.raw(data["keyToken"])

    return render


# --- issue -------------------------------------------------------------------------


def issue(ctx: Context, args: argparse.Namespace) -> int:
    if args.source:
        return bulk_issue.issue_many(ctx, args)
    if args.dry_run or args.create_customers:
        raise UsageError("--dry-run and --create-customers go with --from FILE.csv")
    missing = [f"--{n}" for n in ("customer", "product", "tier") if not getattr(args, n)]
    if missing:
        raise UsageError(f"missing {', '.join(missing)} (or --from FILE.csv)")
    body = _license_body(args.customer, args.product, args.tier, args.tenant)
    body.update(bulk_issue.expiry_fields(args.expires, args.perpetual, "licenses issue"))
    headers = {"Idempotency-Key": args.idempotency_key} if args.idempotency_key else None
    response = ctx.api.post("/license-keys", body, headers=headers)
    ctx.out.emit(response, _render_key(ctx, "License issued", ISSUED_RECORD))
    return 0


def _license_body(customer: str, product: str, tier: str, tenant: str) -> dict[str, Any]:
    """Names as given: the API takes a product's and a tier's id or code, and an identity's
    id or email (in ``tenant``; created with the license when the email has none)."""
    body = {"productId": product, "tierId": tier}
    if "@" in customer:
        return {**body, "customerEmail": customer, "tenantId": tenant}
    return {**body, "customerId": customer}


# --- read --------------------------------------------------------------------------


def show(ctx: Context, args: argparse.Namespace) -> None:
    ctx.out.emit(ctx.api.get(_path(args.license)), _render_license(ctx, "License"))


def list_(ctx: Context, args: argparse.Namespace) -> None:
    """GET /license-keys with every filter given (an email as ``email``)."""
    filters = {
        "productId": args.product,
        "tierId": args.tier,
        "status": args.status,
        "tenantId": args.tenant,
        "expiresAfter": bound(args.expires_after),
        "expiresBefore": bound(args.expires_before),
    }
    if args.customer:
        filters["email" if "@" in args.customer else "customerId"] = args.customer
    given = {name: value for name, value in filters.items() if value}
    show_page(
        ctx, args, "/license-keys", FOUND, title="Licenses", empty="no licenses", params=given
    )


def bound(text: str | None) -> str | None:
    """A search bound: a date is its first second (UTC), else as ``--expires`` takes it."""
    if text is None:
        return None
    try:
        return f"{date.fromisoformat(text.strip()).isoformat()}T00:00:00Z"
    except ValueError:
        return expiry(text)


def history(ctx: Context, args: argparse.Namespace) -> None:
    show_page(ctx, args, _path(args.license, "history"), HISTORY, title="History", empty="none")


# --- change ------------------------------------------------------------------------


def _status_change(action: str) -> Callable[[Context, argparse.Namespace], None]:
    def change(ctx: Context, args: argparse.Namespace) -> None:
        body = {"reason": args.reason} if args.reason else {}
        response = ctx.api.post(_path(args.license, action), body)
        ctx.out.emit(response, _render_license(ctx, f"License {response.data.get('status')}"))

    change.__doc__ = f"POST /license-keys/{{id}}/{action}"
    return change


def revoke(ctx: Context, args: argparse.Namespace) -> int:
    if args.source and args.license:
        raise UsageError("give license ids or --from FILE, not both")
    if not args.source:
        if not args.license:
            raise UsageError("give a license id (or --from FILE)")
        for license_id in args.license:
            response = ctx.api.post(_path(license_id, "revoke"), {"reason": args.reason})
            ctx.out.emit(response, _render_license(ctx, "License revoked"))
        return 0
    items = []
    try:
        lines = args.source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {args.source}: {error}") from error
    for number, line in enumerate(lines, 1):
        license_id = line.split("#", 1)[0].strip()
        if license_id:
            items.append(bulk.Item(number, bulk.row_key("revoke", license_id), license_id))

    def perform(item: bulk.Item) -> Mapping[str, Any]:
        data = ctx.api.post(_path(item.label, "revoke"), {"reason": args.reason}).data
        return {"licenseId": data["licenseId"], "licenseStatus": data["status"]}

    operation = bulk.Operation(
        "revoke", "revoked", perform, columns=(Col("License status", "licenseStatus"),)
    )
    return bulk.run(
        ctx.out, args.source, items, operation, keep_going=args.keep_going, explain=ctx.describe
    )


def renew(ctx: Context, args: argparse.Namespace) -> None:
    response = ctx.api.post(_path(args.license, "renew"), {"expiresAt": expiry(args.expires)})
    ctx.out.emit(response, _render_key(ctx, "License renewed"))


def regenerate(ctx: Context, args: argparse.Namespace) -> None:
    body = {"revokePrevious": args.revoke_previous}
    response = ctx.api.post(_path(args.license, "regenerate"), body)
    ctx.out.emit(response, _render_key(ctx, "New key signed"))


# --- audit -------------------------------------------------------------------------


def audit(ctx: Context, args: argparse.Namespace) -> int:
    """Exit 6 (``Exit.DRIFT``) when the key's claims differ, so scripts can see drift."""
    token = args.key_token
    if args.key_file:
        try:
            token = args.key_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise UsageError(f"cannot read {args.key_file}: {error}") from error
    body = {"token": token} if token else {}
    response = ctx.api.post(_path(args.license, "audit"), body)
    ctx.out.emit(response, lambda data: render_audit(ctx, args.license, data))
    return Exit.DRIFT if response.data.get("status") == "drift" else Exit.OK


def change(in_token: Any, expected: Any) -> str:
    """What changed, in a few words: ``+audit_log -sso`` for lists, else ``a → b``."""
    if isinstance(in_token, list) and isinstance(expected, list):
        added = [f"+{v}" for v in expected if v not in in_token]
        removed = [f"-{v}" for v in in_token if v not in expected]
        return " ".join(added + removed) or "reordered"
    return f"{text(in_token)} → {text(expected)}"


def diff_rows(claim: str, in_token: Any, expected: Any) -> list[dict[str, Any]]:
    """One row per differing leaf: ``limits.maxUsers  5  7`` rather than two whole objects."""
    if isinstance(in_token, dict) and isinstance(expected, dict):
        rows: list[dict[str, Any]] = []
        for key in sorted(set(in_token) | set(expected), key=str):
            if in_token.get(key) != expected.get(key):
                rows += diff_rows(f"{claim}.{key}", in_token.get(key), expected.get(key))
        return rows
    return [
        {
            "claim": claim,
            "inToken": in_token,
            "expected": expected,
            "change": change(in_token, expected),
        }
    ]


def render_audit(ctx: Context, license_id: str, data: Mapping[str, Any]) -> None:
    status = data.get("status")
    if status == "consistent":
        ctx.out.print(Text("consistent: the key's claims match the database", style="green"))
        return
    if status == "encrypted":
        ctx.out.print(Text("encrypted: a JWE cannot be audited without its private key"))
        return
    differences = list(data.get("differences", []))
    ctx.out.print(
        Text(
            f"drift: {len(differences)} claim(s) differ from what the database would sign now",
            style="bold yellow",
        )
    )
    rows = [r for d in differences for r in diff_rows(d["claim"], d["inToken"], d["expected"])]
    ctx.out.table(
        rows,
        (
            Col("Claim", "claim", "bold"),
            Col("In token", "inToken", "red"),
            Col("Expected", "expected", "green"),
            Col("Change", "change"),
        ),
    )
    ctx.out.note(
        f"to give the customer a key that matches: licensing licenses regenerate {license_id}"
    )
