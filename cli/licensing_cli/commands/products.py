"""``licensing products``: create, list, show."""

from __future__ import annotations

import argparse
from typing import Any

from licensing_cli.commands import features, tiers
from licensing_cli.commands.common import Registry, add_paging, show_page
from licensing_cli.context import Context
from licensing_cli.output import Col, ident
from licensing_cli.resolve import Resolver, segment

COLUMNS = (
    ident("Product id", "productId"),
    Col("Code", "code", "bold"),
    Col("Name", "name"),
    Col("Created", "createdAt"),
)
RECORD = (
    Col("Product id", "productId"),
    Col("Code", "code"),
    Col("Name", "name"),
    Col("Description", "description"),
    Col("Created", "createdAt"),
    Col("Updated", "updatedAt"),
)


def register(cli: Registry) -> None:
    group = cli.group("products", "Products: what you license")
    create_cmd = cli.command(group, "create", create, "Create a product")
    create_cmd.add_argument("code", help="stable code, the `aud` of its license keys")
    create_cmd.add_argument("name")
    create_cmd.add_argument("--description")
    add_paging(cli.command(group, "list", list_, "List products"))
    show_cmd = cli.command(group, "show", show, "Show a product, its features and tiers")
    show_cmd.add_argument("product", help="product id or code")


def create(ctx: Context, args: argparse.Namespace) -> None:
    body = {"code": args.code, "name": args.name, "description": args.description}
    response = ctx.api.post("/products", {k: v for k, v in body.items() if v is not None})
    ctx.out.emit(response, lambda data: ctx.out.record(data, RECORD, title="Product created"))


def list_(ctx: Context, args: argparse.Namespace) -> None:
    show_page(ctx, args, "/products", COLUMNS, title="Products", empty="no products yet")


def show(ctx: Context, args: argparse.Namespace) -> None:
    product_id = Resolver(ctx.api).product(args.product)
    response = ctx.api.get(f"/products/{segment(product_id)}")

    def render(data: Any) -> None:
        ctx.out.record(data, RECORD, title=f"Product {data['code']}")
        feature_list = ctx.api.get(f"/products/{segment(product_id)}/features").data
        ctx.out.table(
            feature_list["items"], features.COLUMNS, title="Features", empty="no features"
        )
        tier_list = ctx.api.get(f"/products/{segment(product_id)}/tiers").data
        tiers.print_tiers(ctx, tier_list["items"])

    ctx.out.emit(response, render)
