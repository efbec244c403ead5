"""``python -m local [serve] [options]`` and ``python -m local token [--user admin|user]
[--mfa] [--tenant ID] [--service SCOPE]``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from botocore.exceptions import BotoCoreError, ClientError

from local import totp
from local.aws import access_token, claims_of, resigned, service_token, with_mfa
from local.persistence import StoreError
from local.server import CannotListenError, LocalServer, Options, banner
from local.state import LocalState, StateError, load_state

log = logging.getLogger("local")

SERVE_HELP = """\
Serve the licensing API locally: an embedded moto server (DynamoDB, Cognito, KMS) on
127.0.0.1, tables created from the models, a Cognito user pool with an admin and a
plain user, demo data, and every route of the route table dispatched to its
functions/<name>/handler.py through API Gateway HTTP API (payload 2.0) events.
Everything stays in the data directory: the tables' items and the Cognito users
(aws.sqlite3, written as each request completes, loaded at start unless --fresh),
the signing key, the admin token and state.json."""

SERVE_EPILOG = """\
other commands:
  python -m local token [--user admin|user] [--mfa] [--tenant ID] [--service SCOPE]
      print a fresh access token from the running server (what `make token` does);
      --tenant: a tenant administrator's, --service: a service account's
  python -m local accounts      the console's local accounts: passwords, MFA codes
  python -m local mfa [--user admin|user|tenant-admin]
      the current one-time code of an account's MFA (for the console's step-up)

examples:
  make run                              # python -m local on 127.0.0.1:8000
  make run ARGS="--port 0 --no-seed"    # any free port, no demo catalog
  make run ARGS=--fresh                 # forget the tables' items and users of .local
  curl -H "Authorization: Bearer $(make -s token)" http://127.0.0.1:8000/products"""

MINT_HELP = """\
Print a fresh Cognito access token for a user of the RUNNING local server (read from
<data-dir>/state.json). Exits 1 when no server runs with that data directory."""


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (0 = any free port)")
    return value


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local [serve]",
        description=SERVE_HELP,
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to serve the API on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="port of the API; 0 picks a free one, printed and kept in state.json "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".local"),
        help="private directory for the AWS state (aws.sqlite3), signing key, admin token "
        "and state.json (default: %(default)s)",
    )
    parser.add_argument(
        "--aws-port",
        type=_port,
        default=0,
        help="port of the embedded moto server, always on 127.0.0.1; 0 = any free port "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--no-seed", action="store_true", help="do not create the demo product Rdn.Identity"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="start with empty tables and pool: discard the AWS state kept in the data "
        "directory (the signing key stays)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also print each request's metrics (the EMF JSON Lambda sends to CloudWatch)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="level of the server log on stderr (default: %(default)s)",
    )
    return parser


def token_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local token", description=MINT_HELP)
    parser.add_argument(
        "--user",
        choices=["admin", "user"],
        default="admin",
        help="admin: in group license-admins; user: in no group (default: %(default)s)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".local"),
        help="the data directory of the running server (default: %(default)s)",
    )
    parser.add_argument(
        "--mfa",
        action="store_true",
        help="as if just signed in with MFA (acr mfa, fresh auth_time): what step-up "
        "protected actions (revoke, regenerate, tier changes...) ask for",
    )
    parser.add_argument(
        "--tenant",
        metavar="TENANT_ID",
        help="a tenant administrator of TENANT_ID instead (group tenant-admins, claim tenant)",
    )
    parser.add_argument(
        "--service",
        metavar="SCOPE",
        help="a service account's client-credentials token with SCOPE instead "
        "(licensing/admin or licensing/read; with --tenant: limited to that tenant)",
    )
    return parser


def serve(args: argparse.Namespace) -> int:
    """Run the server until SIGINT or SIGTERM; 0 on a clean stop."""
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:  # metrics are EMF JSON lines: noise between the access log's
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():  # a second Ctrl-C: do not wait any longer
            os._exit(130)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    server = LocalServer(
        Options(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            aws_port=args.aws_port,
            seed=not args.no_seed,
            fresh=args.fresh,
        )
    )
    try:
        try:
            started = server.start()
        except CannotListenError as error:
            print(f"error: {error} (another server? try --port 0)", file=sys.stderr)
            return 1
        except StoreError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        if not stop.is_set():
            print(banner(started), flush=True)
        while not stop.wait(0.5):
            if not server.serving:
                log.error("the HTTP server stopped unexpectedly")
                return 1
        log.info("stopping")
        return 0
    except Exception:
        log.exception("the local server failed")
        return 1
    finally:
        server.stop()


def token(args: argparse.Namespace) -> int:
    """Print a fresh access token from the running server's Cognito."""
    data_dir = args.data_dir.expanduser().resolve()
    try:
        state = load_state(data_dir)
    except StateError as error:
        print(f"error: {error}. Start it with `make run`.", file=sys.stderr)
        return 1
    not_running = (
        f"error: the local server (pid {state.pid}, {state.server_url}) is not running. "
        "Start it with `make run`."
    )
    if not _alive(state.pid):
        print(not_running, file=sys.stderr)
        return 1
    account = state.accounts.get(args.user)
    if account is None:
        print(f"error: no {args.user!r} user in {data_dir}/state.json", file=sys.stderr)
        return 1
    try:
        value = access_token(
            state.aws_endpoint, state.user_pool_id, state.client_id, account, fail_fast=True
        )
    except (BotoCoreError, ClientError):
        print(not_running, file=sys.stderr)
        return 1
    print(_shaped(value, state.client_id, args))
    return 0


def _shaped(value: str, client_id: str, args: argparse.Namespace) -> str:
    """The pool's token, re-signed (moto's key) as the role the options ask for."""
    claims: dict[str, object] = {"tenant": args.tenant} if args.tenant else {}
    if args.service:
        return service_token(claims_of(value)["iss"], client_id, args.service, **claims)
    if args.tenant:
        claims["cognito:groups"] = ["tenant-admins"]
    if args.mfa:
        return with_mfa(value, **claims)
    return resigned(value, **claims) if claims else value


def accounts(args: argparse.Namespace) -> int:
    """Print the local accounts: who, password, groups, and each one's current MFA code."""
    state = _running_state(args.data_dir)
    if state is None:
        return 1
    for role, account in state.accounts.items():
        code = totp.totp(account.mfa_secret) if account.mfa_secret else "-"
        groups = ", ".join(account.groups) or "no group"
        print(f"{role:<13} {account.username:<26} {account.password}  MFA {code}  ({groups})")
    print(
        f"\nSign in at {state.server_url}/console/ ; an MFA code lasts {totp.STEP} s "
        "(`python -m local mfa --user ROLE` prints a fresh one)."
    )
    return 0


def mfa(args: argparse.Namespace) -> int:
    """Print the current one-time code of an account (what its authenticator would show)."""
    state = _running_state(args.data_dir)
    if state is None:
        return 1
    account = state.accounts.get(args.user)
    if account is None or not account.mfa_secret:
        print(f"error: no {args.user!r} account with MFA in {args.data_dir}", file=sys.stderr)
        return 1
    print(totp.totp(account.mfa_secret))
    return 0


def _running_state(data_dir: Path) -> LocalState | None:
    try:
        state = load_state(data_dir.expanduser().resolve())
    except StateError as error:
        print(f"error: {error}. Start it with `make run`.", file=sys.stderr)
        return None
    if not _alive(state.pid):
        print(f"error: the local server ({state.server_url}) is not running.", file=sys.stderr)
        return None
    return state


def _account_parser(prog: str, description: str, *, user: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    if user:
        parser.add_argument(
            "--user", default="admin", help="the account's role (default: %(default)s)"
        )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".local"),
        help="the data directory of the running server (default: %(default)s)",
    )
    return parser


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["token"]:
        return token(token_parser().parse_args(arguments[1:]))
    if arguments[:1] == ["accounts"]:
        parser = _account_parser("python -m local accounts", accounts.__doc__ or "", user=False)
        return accounts(parser.parse_args(arguments[1:]))
    if arguments[:1] == ["mfa"]:
        return mfa(
            _account_parser("python -m local mfa", mfa.__doc__ or "", user=True).parse_args(
                arguments[1:]
            )
        )
    if arguments[:1] == ["serve"]:
        arguments = arguments[1:]
    return serve(serve_parser().parse_args(arguments))


if __name__ == "__main__":
    code = main()
    # Everything is saved and closed by now: leave without tearing down, object by
    # object, a heap that holds days of data (that alone took seconds).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
