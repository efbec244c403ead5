"""What command modules share: registration, paging, JSON/key=value arguments."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from licensing_cli.context import Context
from licensing_cli.errors import UsageError
from licensing_cli.output import Col
from licensing_cli.resolve import pages

Handler = Callable[[Context, argparse.Namespace], int | None]


class Registry:
    """Builds ``licensing <group> <command>`` parsers; every command also accepts the
    global options (``--json``, ``--url``...) after its name."""

    def __init__(self, subparsers: Any, global_options: argparse.ArgumentParser) -> None:
        self._subparsers = subparsers
        self._global = global_options

    def group(self, name: str, help: str) -> Any:
        parser = self._subparsers.add_parser(name, help=help, description=help)
        parser.set_defaults(handler=None, group_parser=parser)
        return parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(
        self, where: Any, name: str, handler: Handler, help: str, epilog: str | None = None
    ) -> argparse.ArgumentParser:
        """A command in a group (``where``), or at the top level (``where=None``)."""
        parser: argparse.ArgumentParser = (where or self._subparsers).add_parser(
            name,
            help=help,
            description=help,
            epilog=epilog,
            parents=[self._global],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.set_defaults(handler=handler)
        return parser


def add_paging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=50, help="page size, 1-100 (default: 50)")
    parser.add_argument("--cursor", help="continue after a previous page (its nextCursor)")
    parser.add_argument("--all", action="store_true", help="follow every page")


def show_page(
    ctx: Context,
    args: argparse.Namespace,
    path: str,
    columns: Sequence[Col],
    *,
    title: str,
    empty: str = "nothing found",
    params: Mapping[str, str] | None = None,
) -> None:
    """A paged collection: one page (``--limit``/``--cursor``) or ``--all`` of them, with
    query ``params`` (a search's filters)."""
    if args.all:
        items = list(pages(ctx.api, path, params=params))
        if ctx.out.json_mode:
            ctx.out.json_line({"items": items, "nextCursor": None})
        else:
            ctx.out.table(items, columns, title=title, empty=empty)
        return

    def render(data: Any) -> None:
        ctx.out.table(data.get("items", []), columns, title=title, empty=empty)
        if data.get("nextCursor"):
            ctx.out.note(f"more: add --cursor {data['nextCursor']} (or --all)")

    page = ctx.api.get(path, limit=args.limit, cursor=args.cursor, **(params or {}))
    ctx.out.emit(page, render)


def json_object(text: str, what: str) -> dict[str, Any]:
    """A JSON object given on the command line."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise UsageError(f"{what} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise UsageError(f"{what} must be a JSON object")
    return value


def key_values(pairs: Sequence[str], what: str) -> dict[str, Any]:
    """``key=value`` pairs; integers and true/false become JSON numbers and booleans."""
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} must look like key=value, not {pair!r}")
        value: Any = raw
        if raw in ("true", "false"):
            value = raw == "true"
        elif raw.lstrip("-").isdigit():
            value = int(raw)
        result[key] = value
    return result


def csv_list(text: str) -> list[str]:
    """``a,b, c`` -> ``["a", "b", "c"]`` (empty text: an empty list)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def money(text: str) -> int:
    """A price in major units (``29`` or ``29.90``) as integer minor units (cents)."""
    try:
        whole, _, cents = text.strip().partition(".")
        if len(cents) > 2 or not whole.isdigit() or (cents and not cents.isdigit()):
            raise ValueError(text)
        return int(whole) * 100 + int(cents.ljust(2, "0") or 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a price: {text!r} (e.g. 29 or 29.90)") from None


def price(minor: Any, currency: Any) -> str:
    """Integer minor units as ``29.00 EUR``."""
    if not isinstance(minor, int):
        return "—"
    return f"{minor // 100}.{minor % 100:02d} {currency or ''}".strip()


def expiry(text: str) -> str:
    """An expiry as the API wants it (ISO 8601, UTC): ``2027-01-31`` (the end of that
    day, UTC), a full timestamp (UTC unless it says otherwise), or ``+30d`` / ``+2y``."""
    value = text.strip()
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        if value.startswith("+") and value[-1:] in ("d", "y") and value[1:-1].isdigit():
            days = int(value[1:-1]) * (365 if value.endswith("y") else 1)
            moment = now + timedelta(days=days)
        elif len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), time(23, 59, 59), UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(
            f"not an expiry: {text!r}", hint="use 2027-01-31, 2027-01-31T12:00:00Z, +30d or +1y"
        ) from None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
