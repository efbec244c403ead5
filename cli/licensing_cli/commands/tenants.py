"""``licensing tenants``: create, show, customers."""

from __future__ import annotations

import argparse

from licensing_cli.commands import customers
from licensing_cli.commands.common import Registry, add_paging, show_page
from licensing_cli.context import Context
from licensing_cli.errors import UsageError
from licensing_cli.output import Col
from licensing_cli.resolve import Resolver, segment

RECORD = (
    Col("Tenant id", "tenantId"),
    Col("Name", "name"),
    Col("Default product", "defaultProductId"),
    Col("Default tier", "defaultTierId"),
    Col("Created", "createdAt"),
)


def register(cli: Registry) -> None:
    group = cli.group("tenants", "Tenants: the organisations identities belong to")
    create_cmd = cli.command(group, "create", create, "Create a tenant")
    create_cmd.add_argument("name")
    create_cmd.add_argument("--default-product", metavar="PRODUCT", help="id or code")
    create_cmd.add_argument(
        "--default-tier", metavar="TIER", help="id or code: new identities get this license"
    )
    show_cmd = cli.command(group, "show", show, "Show a tenant")
    show_cmd.add_argument("tenant", help="tenant id")
    list_cmd = cli.command(group, "customers", list_customers, "List a tenant's identities")
    list_cmd.add_argument("tenant", help="tenant id (`default` for the default tenant)")
    add_paging(list_cmd)


def create(ctx: Context, args: argparse.Namespace) -> None:
    body: dict[str, str] = {"name": args.name}
    if bool(args.default_product) != bool(args.default_tier):
        raise UsageError("--default-product and --default-tier go together")
    if args.default_product:
        resolver = Resolver(ctx.api)
        body["defaultProductId"] = resolver.product(args.default_product)
        body["defaultTierId"] = resolver.tier(body["defaultProductId"], args.default_tier)
    response = ctx.api.post("/tenants", body)
    ctx.out.emit(response, lambda data: ctx.out.record(data, RECORD, title="Tenant created"))


def show(ctx: Context, args: argparse.Namespace) -> None:
    response = ctx.api.get(f"/tenants/{segment(args.tenant)}")
    ctx.out.emit(response, lambda data: ctx.out.record(data, RECORD, title="Tenant"))


def list_customers(ctx: Context, args: argparse.Namespace) -> None:
    path = f"/tenants/{segment(args.tenant)}/customers"
    show_page(ctx, args, path, customers.COLUMNS, title=f"Customers of {args.tenant}")
