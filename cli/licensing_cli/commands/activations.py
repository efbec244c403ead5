"""``licensing activations``: a license's machine activations (seats); force one off."""

from __future__ import annotations

import argparse
from typing import Any

from rich.text import Text

from licensing_cli.commands.common import Registry
from licensing_cli.context import Context
from licensing_cli.output import Col, ident
from licensing_cli.resolve import segment

COLUMNS = (
    ident("Activation id", "activationId"),
    Col("Machine", "machineId"),
    Col("Activated", "activatedAt"),
    Col("Last heartbeat", "lastHeartbeatAt"),
    Col("Heartbeats", "heartbeats"),
    Col("Encrypted", "encrypted"),
    Col("Dead", "dead"),
    Col("Source IP", "sourceIp"),
)


def register(cli: Registry) -> None:
    group = cli.group("activations", "Machine activations (seats) of a license")
    list_cmd = cli.command(group, "list", list_activations, "List a license's activations")
    list_cmd.add_argument("license", help="license id")
    force = cli.command(
        group, "force-deactivate", force_deactivate, "Free a seat: end a machine's activation"
    )
    force.add_argument("license", help="license id")
    force.add_argument("activation", help="activation id (see `activations list`)")


def _path(license_id: str) -> str:
    return f"/license-keys/{segment(license_id)}/activations"


def list_activations(ctx: Context, args: argparse.Namespace) -> None:
    def render(data: Any) -> None:
        items = data.get("items", [])
        ctx.out.table(items, COLUMNS, title="Activations", empty="no activations")
        seats = f"seats: {data.get('activeSeats', '?')} of {data.get('maxUsers', '?')} in use"
        dead = sum(1 for item in items if item.get("dead"))
        if dead:
            seats += f"; {dead} dead (silent past their token lifetime, reclaimable)"
        ctx.out.print(Text(seats, style="bold"))

    ctx.out.emit(ctx.api.get(_path(args.license)), render)


def force_deactivate(ctx: Context, args: argparse.Namespace) -> None:
    path = f"{_path(args.license)}/{segment(args.activation)}/deactivate"

    def render(data: Any) -> None:
        if data.get("deactivated"):
            ctx.out.success(f"Activation {args.activation} ended: its seat is free.")
        else:
            ctx.out.success(f"Activation {args.activation} was already gone: nothing changed.")

    ctx.out.emit(ctx.api.post(path), render)
