"""``licensing tenants``: create, show, customers, summary."""

from __future__ import annotations

import argparse
from typing import Any

from licensing_cli.commands import customers
from licensing_cli.commands.common import Registry, add_paging, show_page
from licensing_cli.context import Context
from licensing_cli.errors import UsageError
from licensing_cli.output import Col
from licensing_cli.resolve import Resolver, segment

RECORD = (
    Col("Tenant id", "tenantId"),
    Col("Name", "name"),
    Col("Provisions product", "provisioning.productId"),
    Col("Provisions tier", "provisioning.tierId"),
    Col("For days", "provisioning.days"),
    Col("Served by license", "licenseId"),
    Col("Created", "createdAt"),
)
SUMMARY = (
    Col("Tenant id", "tenantId"),
    Col("Identities active", "identities.active"),
    Col("Identities deactivated", "identities.deactivated"),
    Col("People", "identities.humans"),
    Col("Service accounts", "identities.services"),
    Col("Licenses active", "licenses.active"),
    Col("Licenses suspended", "licenses.suspended"),
    Col("Licenses revoked", "licenses.revoked"),
    Col("Licenses expired", "licenses.expired"),
)


def register(cli: Registry) -> None:
    group = cli.group("tenants", "Tenants: the organisations identities belong to")
    create_cmd = cli.command(group, "create", create, "Create a tenant")
    create_cmd.add_argument("name")
    create_cmd.add_argument(
        "--provision-product", metavar="PRODUCT", help="id or code: new identities get a license"
    )
    create_cmd.add_argument("--provision-tier", metavar="TIER", help="id or code, of that tier")
    create_cmd.add_argument(
        "--provision-days", type=int, metavar="DAYS", help="license length (default: perpetual)"
    )
    create_cmd.add_argument(
        "--license", metavar="LICENSE", help="license id serving the tenant (its tier's maxTenants)"
    )
    show_cmd = cli.command(group, "show", show, "Show a tenant")
    show_cmd.add_argument("tenant", help="tenant id")
    list_cmd = cli.command(group, "customers", list_customers, "List a tenant's identities")
    list_cmd.add_argument("tenant", help="tenant id (`default` for the default tenant)")
    add_paging(list_cmd)
    summary_cmd = cli.command(
        group, "summary", summary, "Count a tenant's identities, licenses and usage"
    )
    summary_cmd.add_argument("tenant", help="tenant id (`default` for the default tenant)")


def create(ctx: Context, args: argparse.Namespace) -> None:
    body: dict[str, object] = {"name": args.name}
    if bool(args.provision_product) != bool(args.provision_tier):
        raise UsageError("--provision-product and --provision-tier go together")
    if args.provision_days is not None and not args.provision_product:
        raise UsageError("--provision-days needs --provision-product and --provision-tier")
    if args.provision_product:
        resolver = Resolver(ctx.api)
        product = resolver.product(args.provision_product)
        policy: dict[str, object] = {
            "productId": product,
            "tierId": resolver.tier(product, args.provision_tier),
        }
        if args.provision_days is not None:
            policy["days"] = args.provision_days
        body["provisioning"] = policy
    if args.license:
        body["licenseId"] = args.license
    response = ctx.api.post("/tenants", body)
    ctx.out.emit(response, lambda data: ctx.out.record(data, RECORD, title="Tenant created"))


def show(ctx: Context, args: argparse.Namespace) -> None:
    response = ctx.api.get(f"/tenants/{segment(args.tenant)}")
    ctx.out.emit(response, lambda data: ctx.out.record(data, RECORD, title="Tenant"))


def list_customers(ctx: Context, args: argparse.Namespace) -> None:
    path = f"/tenants/{segment(args.tenant)}/customers"
    show_page(ctx, args, path, customers.COLUMNS, title=f"Customers of {args.tenant}")


def summary(ctx: Context, args: argparse.Namespace) -> None:
    response = ctx.api.get(f"/tenants/{segment(args.tenant)}/summary")

    def render(data: dict[str, Any]) -> None:
        ctx.out.record(data, SUMMARY, title=f"Summary of {args.tenant}")
        ctx.out.table(data["usage"], USAGE, title="Usage this period", empty="no usage yet")

    ctx.out.emit(response, render)


USAGE = (
    Col("Meter", "meter"),
    Col("Period", "period"),
    Col("Used", "used"),
    Col("Counters", "counters"),
)
