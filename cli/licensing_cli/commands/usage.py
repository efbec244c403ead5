"""``licensing usage``: an identity's metered usage against its tier's quotas."""

from __future__ import annotations

import argparse
from typing import Any

from licensing_cli.commands.common import Registry
from licensing_cli.context import Context
from licensing_cli.output import Col, columns_for, ident, record_rows
from licensing_cli.resolve import DEFAULT_TENANT, Resolver, segment

PREFERRED = (
    ident("License", "licenseId"),
    Col("Meter", "meter", "bold"),
    Col("Period", "period"),
    Col("Used", "used"),
    Col("Limit", "limit"),
    Col("Remaining", "remaining"),
    Col("Resets", "resetsAt"),
)


def register(cli: Registry) -> None:
    group = cli.group("usage", "Metered usage per identity")
    show_cmd = cli.command(group, "show", show, "Show an identity's usage against its quotas")
    show_cmd.add_argument("customer", help="customer id or email")
    show_cmd.add_argument("--tenant", default=DEFAULT_TENANT, help="tenant of an email")
    show_cmd.add_argument(
        "--periods", type=int, help="this period and the N-1 before it (1-13; default: 1)"
    )


def show(ctx: Context, args: argparse.Namespace) -> None:
    customer_id = Resolver(ctx.api).customer(args.customer, args.tenant)

    def render(data: Any) -> None:
        items = next(
            (data[k] for k in ("items", "meters", "usage") if isinstance(data.get(k), list)), None
        )
        if items is None:
            ctx.out.record(data, record_rows(data), title=f"Usage of {customer_id}")
            return
        ctx.out.table(items, columns_for(items, PREFERRED), title=f"Usage of {customer_id}")

    path = f"/customers/{segment(customer_id)}/usage"
    ctx.out.emit(ctx.api.get(path, periods=args.periods), render)
