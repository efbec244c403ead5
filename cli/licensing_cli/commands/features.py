"""``licensing features``: add, list."""

from __future__ import annotations

import argparse

from licensing_cli.commands.common import Registry
from licensing_cli.context import Context
from licensing_cli.output import Col
from licensing_cli.resolve import Resolver, segment

COLUMNS = (
    Col("Key", "key", "bold"),
    Col("Name", "name"),
    Col("Display only", "displayOnly"),
    Col("Description", "description"),
)


def register(cli: Registry) -> None:
    group = cli.group("features", "Features of a product (what tiers enable)")
    add = cli.command(group, "add", add_feature, "Add a feature to a product")
    add.add_argument("product", help="product id or code")
    add.add_argument("key", help="stable slug: sso, audit_log...")
    add.add_argument("name")
    add.add_argument("--description")
    add.add_argument(
        "--display-only",
        action="store_true",
        help="shown on pricing pages, never enforced nor put in tokens",
    )
    list_cmd = cli.command(group, "list", list_features, "List a product's features")
    list_cmd.add_argument("product", help="product id or code")


def _path(ctx: Context, product: str) -> str:
    return f"/products/{segment(Resolver(ctx.api).product(product))}/features"


def add_feature(ctx: Context, args: argparse.Namespace) -> None:
    body = {"key": args.key, "name": args.name, "displayOnly": args.display_only}
    if args.description:
        body["description"] = args.description
    response = ctx.api.post(_path(ctx, args.product), body)
    ctx.out.emit(response, lambda data: ctx.out.table([data], COLUMNS, title="Feature added"))


def list_features(ctx: Context, args: argparse.Namespace) -> None:
    response = ctx.api.get(_path(ctx, args.product))
    ctx.out.emit(
        response,
        lambda data: ctx.out.table(data["items"], COLUMNS, title="Features", empty="no features"),
    )
