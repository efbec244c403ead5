"""``licensing customers``: create, list (find), show, licenses, deactivate, reactivate."""

from __future__ import annotations

import argparse
from typing import Any

from licensing_cli.commands import licenses
from licensing_cli.commands.common import Registry, add_paging, key_values, show_page
from licensing_cli.context import Context
from licensing_cli.output import Col, ident, record_rows
from licensing_cli.resolve import DEFAULT_TENANT, Resolver, segment

COLUMNS = (
    ident("Customer id", "customerId"),
    Col("Email", "email"),
    Col("Name", "name"),
    Col("Kind", "kind"),
    Col("Status", "status"),
    Col("Tenant", "tenantId"),
)
RECORD = (
    Col("Customer id", "customerId"),
    Col("Email", "email"),
    Col("Name", "name"),
    Col("Kind", "kind"),
    Col("Status", "status"),
    Col("Tenant", "tenantId"),
    Col("IdP subject", "subject"),
    Col("Metadata", "metadata"),
    Col("Created", "createdAt"),
    Col("Updated", "updatedAt"),
)


def register(cli: Registry) -> None:
    group = cli.group("customers", "Identities (humans and service accounts) that hold licenses")
    create_cmd = cli.command(group, "create", create, "Create an identity")
    create_cmd.add_argument("--email", required=True)
    create_cmd.add_argument("--name", required=True)
    create_cmd.add_argument("--kind", choices=["human", "service"], default="human")
    create_cmd.add_argument("--tenant", help="tenant id (default: the default tenant)")
    create_cmd.add_argument("--subject", help="the identity provider's `sub`")
    create_cmd.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE")
    list_cmd = cli.command(
        group,
        "list",
        list_,
        "Find identities by email, email or name prefix, tenant, status and kind",
        "Start from an email (every tenant, or --tenant) or a tenant (tenant administrators:\n"
        "their own); e.g. licensing customers list --tenant default --prefix acme",
    )
    list_cmd.add_argument("--email", help="exactly this address, in any of its forms")
    list_cmd.add_argument("--prefix", help="the start of the email or the name, in any case")
    list_cmd.add_argument("--tenant", help="tenant id")
    list_cmd.add_argument("--status", choices=["active", "deactivated"])
    list_cmd.add_argument("--kind", choices=["human", "service"])
    add_paging(list_cmd)
    for name, handler, help in (
        ("show", show, "Show an identity"),
        ("licenses", list_licenses, "List an identity's licenses"),
        ("deactivate", deactivate, "Deactivate an identity: all its licenses stop validating"),
        ("reactivate", reactivate, "Reactivate a deactivated identity"),
    ):
        command = cli.command(group, name, handler, help)
        command.add_argument("customer", help="customer id, or email (see --tenant)")
        command.add_argument("--tenant", default=DEFAULT_TENANT, help="tenant of an email")
        if name == "licenses":
            add_paging(command)
        if name == "deactivate":
            command.add_argument("--reason")


def _customer_id(ctx: Context, args: argparse.Namespace) -> str:
    return segment(Resolver(ctx.api).customer(args.customer, args.tenant))


def _render(ctx: Context, title: str) -> Any:
    def render(data: Any) -> None:
        known = isinstance(data, dict) and "customerId" in data
        ctx.out.record(data or {}, RECORD if known else record_rows(data or {}), title=title)

    return render


def create(ctx: Context, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"email": args.email, "name": args.name, "kind": args.kind}
    optional = {"tenantId": args.tenant, "subject": args.subject}
    body.update({key: value for key, value in optional.items() if value})
    if args.meta:
        body["metadata"] = key_values(args.meta, "--meta")
    ctx.out.emit(ctx.api.post("/customers", body), _render(ctx, "Customer created"))


def list_(ctx: Context, args: argparse.Namespace) -> None:
    """GET /customers with every filter given."""
    filters = {
        "email": args.email,
        "q": args.prefix,
        "tenantId": args.tenant,
        "status": args.status,
        "kind": args.kind,
    }
    given = {name: value for name, value in filters.items() if value}
    show_page(
        ctx, args, "/customers", COLUMNS, title="Customers", empty="no customers", params=given
    )


def show(ctx: Context, args: argparse.Namespace) -> None:
    ctx.out.emit(ctx.api.get(f"/customers/{_customer_id(ctx, args)}"), _render(ctx, "Customer"))


def list_licenses(ctx: Context, args: argparse.Namespace) -> None:
    path = f"/customers/{_customer_id(ctx, args)}/license-keys"
    show_page(ctx, args, path, licenses.COLUMNS, title="Licenses", empty="no licenses")


def deactivate(ctx: Context, args: argparse.Namespace) -> None:
    body = {"reason": args.reason} if args.reason else {}
    response = ctx.api.post(f"/customers/{_customer_id(ctx, args)}/deactivate", body)
    ctx.out.emit(response, _render(ctx, "Customer deactivated"))


def reactivate(ctx: Context, args: argparse.Namespace) -> None:
    response = ctx.api.post(f"/customers/{_customer_id(ctx, args)}/reactivate")
    ctx.out.emit(response, _render(ctx, "Customer reactivated"))
