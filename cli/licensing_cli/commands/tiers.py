"""``licensing tiers``: create, list, show (the inheritance as a tree), update."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from rich.markup import escape
from rich.tree import Tree

from licensing_cli.commands.common import Registry, csv_list, json_object, money, price
from licensing_cli.context import Context
from licensing_cli.errors import UsageError, duration
from licensing_cli.output import Col, ident
from licensing_cli.resolve import Resolver, segment

#: Each billing period: the field of its price, and how the price reads.
_PERIODS = {"monthly": ("monthlyPrice", "per month"), "annual": ("annualPrice", "per year")}


def prices(tier: Mapping[str, Any]) -> str:
    """The periods the tier is sold for with their prices: ``29.00 EUR per month``."""
    offered = tier.get("billingPeriods") or []
    shown = [
        f"{price(tier.get(field), tier.get('currency'))} {per}"
        for period, (field, per) in _PERIODS.items()
        if period in offered and tier.get(field) is not None
    ]
    return ", ".join(shown) or "no price"


COLUMNS = (
    ident("Tier id", "tierId"),
    Col("Code", "code", "bold"),
    Col("Name", "name"),
    Col("Includes", "includes"),
    Col("Seats", "maxUsers"),
    Col("Prices", prices),
    Col("Features (resolved)", "resolved.features"),
)


def register(cli: Registry) -> None:
    group = cli.group("tiers", "Pricing tiers of a product, with inherited features")
    create_cmd = cli.command(group, "create", create, "Add a tier to a product")
    create_cmd.add_argument("product", help="product id or code")
    create_cmd.add_argument("code")
    create_cmd.add_argument("name")
    _tier_options(create_cmd, creating=True)
    list_cmd = cli.command(group, "list", list_tiers, "List a product's tiers, resolved")
    list_cmd.add_argument("product", help="product id or code")
    show_cmd = cli.command(group, "show", show, "Show a tier and its inheritance as a tree")
    show_cmd.add_argument("product", help="product id or code")
    show_cmd.add_argument("tier", help="tier id or code")
    update_cmd = cli.command(group, "update", update, "Change a tier (absent options stay)")
    update_cmd.add_argument("product", help="product id or code")
    update_cmd.add_argument("tier", help="tier id or code")
    update_cmd.add_argument("--name")
    _tier_options(update_cmd, creating=False)


def _tier_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    """Options shared by create and update; update leaves unset ones unchanged."""
    default = (lambda value: value) if creating else (lambda value: None)
    parser.add_argument("--description")
    parser.add_argument("--includes", metavar="TIER", help="parent tier (id or code)")
    parser.add_argument("--monthly-price", type=money, metavar="PRICE", help="0 for free")
    parser.add_argument("--annual-price", type=money, metavar="PRICE", help="0 for free")
    parser.add_argument("--currency", default=default("USD"), help="ISO 4217 code")
    parser.add_argument(
        "--billing-periods",
        type=csv_list,
        help="monthly,annual; each needs its price"
        + (" (default: the periods whose price is given)" if creating else ""),
    )
    parser.add_argument("--max-users", type=int, default=default(1), help="seats per license")
    parser.add_argument("--max-tenants", type=int)
    parser.add_argument("--features", type=csv_list, help="own feature keys, comma-separated")
    parser.add_argument("--quota", action="append", default=[], metavar="METER=LIMIT[/PERIOD]")
    parser.add_argument("--step-up", action="append", default=[], metavar="FEATURE=ACR:MAX_AGE")
    parser.add_argument("--heartbeat-interval", type=int, metavar="SECONDS")
    parser.add_argument("--heartbeat-ttl", type=int, metavar="SECONDS")
    parser.add_argument(
        "--self-service", action=argparse.BooleanOptionalAction, default=default(False)
    )
    parser.add_argument(
        "--sensitive",
        action=argparse.BooleanOptionalAction,
        default=default(False),
        help="issuing its licenses needs a step-up login",
    )
    parser.add_argument("--data", metavar="JSON", help="more fields, as the API's JSON")
    if not creating:
        parser.add_argument("--add-feature", action="append", default=[], metavar="KEY")
        parser.add_argument("--remove-feature", action="append", default=[], metavar="KEY")
        parser.add_argument("--no-includes", action="store_true", help="remove the parent tier")


def _quotas(values: list[str]) -> dict[str, Any]:
    quotas: dict[str, Any] = {}
    for value in values:
        meter, _, rest = value.partition("=")
        limit, _, period = rest.partition("/")
        if not meter or not limit.isdigit():
            raise UsageError(f"--quota wants METER=LIMIT[/day|/month], not {value!r}")
        quotas[meter] = {"limit": int(limit), "period": period or "month"}
    return quotas


def _step_up(values: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for value in values:
        feature, _, rest = value.partition("=")
        acr, _, max_age = rest.rpartition(":")
        if not feature or not acr or not max_age.isdigit():
            raise UsageError(f"--step-up wants FEATURE=ACR:MAX_AGE, not {value!r}")
        result[feature] = {"acr": acr, "maxAge": int(max_age)}
    return result


def _body(args: argparse.Namespace, resolver: Resolver, product_id: str) -> dict[str, Any]:
    """The JSON body from the options that were given."""
    body: dict[str, Any] = {
        "name": getattr(args, "name", None),
        "description": args.description,
        "monthlyPrice": args.monthly_price,
        "annualPrice": args.annual_price,
        "currency": args.currency,
        "billingPeriods": args.billing_periods,
        "maxUsers": args.max_users,
        "maxTenants": args.max_tenants,
        "features": args.features,
        "quotas": _quotas(args.quota) or None,
        "stepUp": _step_up(args.step_up) or None,
        "selfService": args.self_service,
        "sensitive": args.sensitive,
    }
    if args.includes:
        body["includesTierId"] = resolver.tier(product_id, args.includes)
    heartbeat = {"intervalSeconds": args.heartbeat_interval, "ttlSeconds": args.heartbeat_ttl}
    if any(v is not None for v in heartbeat.values()):
        body["heartbeat"] = {k: v for k, v in heartbeat.items() if v is not None}
    body = {key: value for key, value in body.items() if value is not None}
    if args.data:
        body.update(json_object(args.data, "--data"))
    return body


def _priced_periods(body: Mapping[str, Any]) -> list[str]:
    """The periods whose price the body gives: what a new tier offers unless told."""
    return [period for period, (field, _) in _PERIODS.items() if body.get(field) is not None]


def create(ctx: Context, args: argparse.Namespace) -> None:
    resolver = Resolver(ctx.api)
    product_id = resolver.product(args.product)
    body = {"code": args.code, **_body(args, resolver, product_id)}
    body.setdefault("billingPeriods", _priced_periods(body))
    if not body["billingPeriods"]:
        raise UsageError(
            "a tier is sold at a price: give --monthly-price and/or --annual-price "
            "(0 for a free tier)"
        )
    response = ctx.api.post(f"/products/{segment(product_id)}/tiers", body)
    ctx.out.emit(response, lambda data: _print_tree(ctx, resolver, data))


def list_tiers(ctx: Context, args: argparse.Namespace) -> None:
    product_id = Resolver(ctx.api).product(args.product)
    response = ctx.api.get(f"/products/{segment(product_id)}/tiers")
    ctx.out.emit(response, lambda data: print_tiers(ctx, data["items"]))


def print_tiers(ctx: Context, items: list[dict[str, Any]]) -> None:
    """A table of tiers, each parent named by its code."""
    codes = {t["tierId"]: t["code"] for t in items}
    rows = [{**t, "includes": codes.get(t.get("includesTierId") or "")} for t in items]
    ctx.out.table(rows, COLUMNS, title="Tiers", empty="no tiers")


def show(ctx: Context, args: argparse.Namespace) -> None:
    resolver = Resolver(ctx.api)
    product_id = resolver.product(args.product)
    tier_id = resolver.tier(product_id, args.tier)
    response = ctx.api.get(f"/products/{segment(product_id)}/tiers/{segment(tier_id)}")
    ctx.out.emit(response, lambda data: _print_tree(ctx, resolver, data))


def update(ctx: Context, args: argparse.Namespace) -> None:
    resolver = Resolver(ctx.api)
    product_id = resolver.product(args.product)
    tier_id = resolver.tier(product_id, args.tier)
    body = _body(args, resolver, product_id)
    if args.no_includes:
        body["includesTierId"] = None
    if args.add_feature or args.remove_feature:
        current = next(t for t in resolver.tiers(product_id) if t["tierId"] == tier_id)
        own = list(body.get("features", current.get("features", [])))
        own += [key for key in args.add_feature if key not in own]
        body["features"] = [key for key in own if key not in args.remove_feature]
    if not body:
        raise UsageError("nothing to change", hint="see `licensing tiers update --help`")
    path = f"/products/{segment(product_id)}/tiers/{segment(tier_id)}"
    response = ctx.api.patch(path, body)
    ctx.out.emit(response, lambda data: _print_tree(ctx, Resolver(ctx.api), data))


def _print_tree(ctx: Context, resolver: Resolver, tier: Mapping[str, Any]) -> None:
    """Render after a fresh read of the product's tiers (the chain's other members)."""
    by_id = {t["tierId"]: t for t in resolver.tiers(tier["productId"])}
    by_id[tier["tierId"]] = dict(tier)
    ctx.out.print(inheritance_tree(tier, by_id))


def _feature_label(key: str, tier: Mapping[str, Any], display_only: set[str]) -> str:
    label = key
    if key in display_only:
        label += " [dim](display only)[/dim]"
    step_up = (tier.get("stepUp") or {}).get(key)
    if step_up:
        age = duration(int(step_up.get("maxAge", 0)))
        label += f" [yellow](step-up: {escape(str(step_up.get('acr')))} within {age})[/yellow]"
    return label


def inheritance_tree(tier: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]) -> Tree:
    """The tier at the top, each included tier nested under the one that includes it,
    each with its own features; then what the whole chain resolves to."""
    resolved = tier.get("resolved") or {}
    enforced = list(resolved.get("features", []))
    display_only = set(resolved.get("displayFeatures", [])) - set(enforced)
    chain = list(resolved.get("chain") or [tier["tierId"]])
    head = (
        f"[bold]{escape(tier['name'])}[/bold] ({escape(tier['code'])})  [cyan]{tier['tierId']}[/cyan]  "
        f"{tier.get('maxUsers')} seat(s), {prices(tier)}"
    )
    if tier.get("sensitive"):
        head += "  [yellow](sensitive: issuing needs a step-up login)[/yellow]"
    root = Tree(head)
    node = root
    for index, tier_id in enumerate(chain):
        member = by_id.get(tier_id, {"tierId": tier_id, "name": tier_id, "code": "?"})
        if index:
            node = node.add(
                f"includes [bold]{escape(member['name'])}[/bold] ({escape(member['code'])})  "
                f"[cyan]{tier_id}[/cyan]"
            )
        own = list(member.get("features", []))
        for key in own:
            node.add(_feature_label(key, member, display_only))
        if not own:
            node.add("[dim]no own features[/dim]")
    summary = root.add("[green]resolved[/green]")
    summary.add(f"enforced (in tokens): {', '.join(sorted(enforced)) or '—'}")
    if display_only:
        summary.add(f"display only: {', '.join(sorted(display_only))}")
    return root
