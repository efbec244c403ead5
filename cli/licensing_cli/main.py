"""``licensing``: the entry point, global options and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

import httpx

from licensing_cli import __version__
from licensing_cli.client import ApiError, Unreachable
from licensing_cli.commands import GROUPS
from licensing_cli.commands.common import Registry
from licensing_cli.context import Context, Options
from licensing_cli.errors import EXIT_CODES_HELP, CliError, Exit, exit_code
from licensing_cli.output import Output

DESCRIPTION = """\
Manage the licensing service from a terminal: products, tiers, customers, license
keys (one or thousands), activations, usage and signing keys."""
EPILOG = f"""\
configuration (first found wins):
  API URL   --url, --local, $LICENSING_URL, `url` in the profile
  token     --token, --local, $LICENSING_TOKEN, the profile's cached login (licensing login)
  profiles  $XDG_CONFIG_HOME/licensing/config.toml (~/.config/licensing/config.toml),
            one [table] per profile; --profile or $LICENSING_PROFILE picks one
  --local   use `make run`'s server: URL and a fresh admin token from <data-dir>/state.json;
            add --mfa for step-up actions (a token as if just signed in with MFA).
            The data dir: --data-dir, $LICENSING_LOCAL_DIR, else the first .local/state.json
            in the current directory or its parents, else in the repository the CLI
            was installed from

output: tables for people; --json prints the API's JSON as is (errors: the problem
document on stdout, the explanation on stderr); bulk commands print one JSON line per row.

{EXIT_CODES_HELP}

examples:
  licensing --local products list
  licensing --local tiers show Rdn.Identity enterprise
  licensing --local licenses issue --customer ada@example.com --product Rdn.Identity --tier pro --expires +365d
  licensing --local licenses issue --from customers.csv --json > issued.jsonl"""


def global_options() -> argparse.ArgumentParser:
    """Options every command accepts, before or after its name."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("global options")
    suppress = argparse.SUPPRESS
    group.add_argument("--url", default=suppress, help="API base URL")
    group.add_argument("--token", default=suppress, help="bearer token (prefer LICENSING_TOKEN)")
    group.add_argument("--profile", default=suppress, help="profile of config.toml")
    group.add_argument(
        "--local", action="store_true", default=suppress, help="talk to `make run`'s server"
    )
    group.add_argument(
        "--data-dir",
        type=Path,
        default=suppress,
        help="the local server's data dir (default: $LICENSING_LOCAL_DIR, else .local "
        "found upwards from here, else in the repository the CLI was installed from)",
    )
    group.add_argument(
        "--mfa",
        action="store_true",
        default=suppress,
        help="an MFA-strength token, for step-up actions: `login --mfa` insists on an MFA "
        "login; with --local, a local token as if just signed in with MFA",
    )
    group.add_argument("--json", action="store_true", default=suppress, help="print raw JSON")
    group.add_argument("--timeout", type=float, default=suppress, help="seconds (default 30)")
    return parser


def build_parser() -> argparse.ArgumentParser:
    common = global_options()
    parser = argparse.ArgumentParser(
        prog="licensing",
        description=DESCRIPTION,
        epilog=EPILOG,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"licensing {__version__}")
    parser.set_defaults(handler=None, group_parser=parser)
    registry = Registry(parser.add_subparsers(title="commands", metavar="COMMAND"), common)
    for group in GROUPS:
        group.register(registry)
    return parser


def _options(args: argparse.Namespace) -> Options:
    defaults = Options()
    return Options(
        url=getattr(args, "url", None),
        token=getattr(args, "token", None),
        profile=getattr(args, "profile", None),
        local=getattr(args, "local", False),
        mfa=getattr(args, "mfa", False),
        data_dir=getattr(args, "data_dir", defaults.data_dir),
        json=getattr(args, "json", False),
        timeout=getattr(args, "timeout", defaults.timeout),
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Run one command; returns its exit code (see ``licensing --help``)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error (2)
        return stop.code if isinstance(stop.code, int) else Exit.USAGE
    if args.handler is None:
        args.group_parser.print_help(stderr or sys.stderr)
        return Exit.USAGE
    options = _options(args)
    out = Output(
        json_mode=options.json,
        stdout=stdout or sys.stdout,
        stderr=stderr or sys.stderr,
        env=os.environ if env is None else env,
    )
    ctx = Context(options, os.environ if env is None else env, out, transport)
    try:
        return int(args.handler(ctx, args) or Exit.OK)
    except (ApiError, Unreachable, CliError) as error:
        if out.json_mode and isinstance(error, ApiError) and error.body is not None:
            out.raw(error.text)
        out.error(*ctx.describe(error))
        return int(exit_code(error))
    except KeyboardInterrupt:
        out.error("interrupted", "run the same command again to resume a bulk operation")
        return 130
    except Exception:
        traceback.print_exc(file=stderr or sys.stderr)
        out.error("unexpected error: this is a bug in licensing-cli, please report it")
        return Exit.BUG
    finally:
        ctx.close()
