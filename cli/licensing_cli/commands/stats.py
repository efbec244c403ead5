"""``licensing stats``: the daily activity of a scope as a table and a terminal chart,
and its licenses, machines and seats now."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rich.text import Text

from licensing_cli.commands.common import Registry
from licensing_cli.context import Context
from licensing_cli.errors import UsageError
from licensing_cli.output import Col
from licensing_cli.resolve import Resolver

#: Eight heights of a bar, where the terminal shows Unicode; else ASCII.
BLOCKS = "▁▂▃▄▅▆▇█"
ASCII = "_.-~=+*#"
COUNTS = (
    ("activations", "Activations"),
    ("deactivations", "Deactivations"),
    ("reclaimed", "Reclaimed"),
    ("issued", "Issued"),
    ("revoked", "Revoked"),
    ("suspended", "Suspended"),
    ("activeMachines", "Machines"),
)
SUMMARY = (
    Col("Licenses active", "licenses.byStatus.active"),
    Col("Licenses suspended", "licenses.byStatus.suspended"),
    Col("Licenses revoked", "licenses.byStatus.revoked"),
    Col("Active machines", "activeMachines"),
    Col("Seats used", "seats.used"),
    Col("Seats granted", "seats.total"),
)
#: The longest series the API serves (``GET /stats``).
MAX_DAYS = 366


def register(cli: Registry) -> None:
    command = cli.command(
        None,
        "stats",
        show,
        "Daily activity (table and chart), licenses, machines and seats",
        epilog="Days are UTC. Tenant administrators see their own tenant.",
    )
    command.add_argument("--product", help="one product, by id or code (default: all)")
    command.add_argument("--tenant", help="one tenant id (default: all, or your own)")
    span = command.add_mutually_exclusive_group()
    span.add_argument("--days", type=int, default=30, help="the last N days (default: 30)")
    span.add_argument("--from", dest="first", type=_day, help="first day, YYYY-MM-DD")
    command.add_argument("--to", dest="last", type=_day, help="last day (default: today)")
    command.add_argument("--no-chart", action="store_true", help="the table only")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day (YYYY-MM-DD)") from None


def show(ctx: Context, args: argparse.Namespace) -> None:
    if not 1 <= args.days <= MAX_DAYS:
        raise UsageError(f"--days must be 1 to {MAX_DAYS}")
    scope = {"productId": Resolver(ctx.api).product(args.product) if args.product else None}
    scope["tenantId"] = args.tenant
    last = args.last or datetime.now(UTC).date()
    first = args.first or last - timedelta(days=args.days - 1)
    series = ctx.api.get("/stats", **scope, **{"from": first.isoformat(), "to": last.isoformat()})
    summary = ctx.api.get("/stats/summary", **scope)
    if ctx.out.json_mode:
        ctx.out.json_line({"series": series.data, "summary": summary.data})
        return
    points = series.data["points"]
    meters = sorted({meter for p in points for meter in p["usage"]})
    columns = [
        Col("Date", "date", no_wrap=True),
        *(Col(header, name) for name, header in COUNTS),
        *(Col(meter, _used(meter)) for meter in meters),
    ]
    title = f"{_scope_title(series.data)}, {series.data['from']} to {series.data['to']} (UTC)"
    ctx.out.table(points, columns, title=title)
    if not args.no_chart:
        chart(ctx, points, meters)
    ctx.out.record(summary.data, SUMMARY, title="Now")


def _used(meter: str) -> Callable[[Mapping[str, Any]], int]:
    def used(point: Mapping[str, Any]) -> int:
        return int(point["usage"].get(meter, 0))

    return used


def _scope_title(data: Mapping[str, Any]) -> str:
    product, tenant = data.get("productId"), data.get("tenantId")
    parts = [f"product {product}" if product else "all products"]
    parts.append(f"tenant {tenant}" if tenant else "all tenants")
    return ", ".join(parts)


def chart(ctx: Context, points: Sequence[Mapping[str, Any]], meters: Sequence[str]) -> None:
    """One sparkline per series, squeezed to the terminal's width."""
    encoding = ctx.out.console.encoding.lower()
    blocks = BLOCKS if encoding.replace("-", "").startswith("utf") else ASCII
    series = [(header, [int(p[name]) for p in points], name == "activeMachines")
              for name, header in COUNTS]  # fmt: skip
    series += [(meter, [int(p["usage"].get(meter, 0)) for p in points], False) for meter in meters]
    label = max(len(name) for name, _, _ in series)
    width = max(ctx.out.console.width - label - 20, 10)
    for name, values, level in series:
        squeezed = squeeze(values, width, level=level)
        line = Text(f"{name:<{label}}  ")
        line.append(sparkline(squeezed, blocks), style="cyan")
        line.append(f"  max {max(values, default=0)}", style="dim")
        ctx.out.print(line)


def squeeze(values: Sequence[int], width: int, *, level: bool) -> list[int]:
    """At most ``width`` values: consecutive days added up (counts) or their last value
    taken (a level such as active machines)."""
    size = max(math.ceil(len(values) / width), 1)
    chunks = [values[i : i + size] for i in range(0, len(values), size)]
    return [chunk[-1] if level else sum(chunk) for chunk in chunks]


def sparkline(values: Sequence[int], blocks: str = BLOCKS) -> str:
    """Each value as a bar from the lowest (or zero) to the highest; zero is a space."""
    if not values:
        return ""
    low, high = min(min(values), 0), max(values)
    span = high - low or 1
    return "".join(
        " " if value == 0 else blocks[round((value - low) / span * (len(blocks) - 1))]
        for value in values
    )
