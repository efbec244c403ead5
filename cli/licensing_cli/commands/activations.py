"""``licensing activations``: a license's machine activations (seats); force one off;
carry an air-gapped machine's activation request or deactivation proof to the service."""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

from rich.text import Text

from licensing_cli.commands.common import Registry
from licensing_cli.context import Context
from licensing_cli.errors import UsageError
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
    Col("Offline until", "offlineUntil"),
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
    offline = cli.command(
        group,
        "offline",
        offline_activate,
        "Activate an air-gapped machine from the request its SDK wrote; print its machine "
        "file, the response to carry back",
        epilog="example: licensing activations offline request.jws > response.jws",
    )
    offline.add_argument("request", help="the request file ('-': standard input)")
    offline.add_argument(
        "--ttl", type=int, help="the file's lifetime in seconds (default: the tier's)"
    )
    deactivate = cli.command(
        group,
        "offline-deactivate",
        offline_deactivate,
        "Free an air-gapped machine's seat with the deactivation proof its SDK wrote",
    )
    deactivate.add_argument("proof", help="the proof file ('-': standard input)")


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


def _token_file(name: str) -> str:
    """A compact JOSE token from a file (or standard input), surrounding space removed."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {name}: {error}") from error
    if not text.strip():
        raise UsageError(f"{name} is empty")
    return text.strip()


def offline_activate(ctx: Context, args: argparse.Namespace) -> None:
    request = _token_file(args.request)
    body: dict[str, Any] = {"request": request}
    if args.ttl is not None:
        body["ttlSeconds"] = args.ttl
    # the same request file submitted again (a lost answer) gets the same machine file
    key = hashlib.sha256(request.encode()).hexdigest()
    response = ctx.public_api.post(
        "/license-activations/offline", body, headers={"Idempotency-Key": key}
    )

    def render(data: Any) -> None:
        ctx.out.raw(data["machineFile"])  # the response file: nothing else on stdout
        ctx.out.err.print(
            f"activation {data['activationId']}: machine file ({data['fileType']}) valid "
            f"until {data['expiresAt']}"
        )

    ctx.out.emit(response, render)


def offline_deactivate(ctx: Context, args: argparse.Namespace) -> None:
    response = ctx.public_api.post(
        "/license-activations/offline-deactivate", {"proof": _token_file(args.proof)}
    )

    def render(data: Any) -> None:
        if data.get("deactivated"):
            ctx.out.success("The machine's seat is free.")
        else:
            ctx.out.success("That activation was already gone: nothing changed.")

    ctx.out.emit(response, render)
