"""Start and stop the whole local stack: moto, environment, tables, Cognito, seed, HTTP."""

from __future__ import annotations

import gc
import ipaddress
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from licensing_core.store.base import create_missing_tables
from licensing_core.store.models import ALL_MODELS

from local import FUNCTIONS_DIR, console
from local.aws import (
    ACCOUNT_ID,
    ADMIN_GROUP,
    REGION,
    EmbeddedAws,
    IdentityProvider,
    access_token,
    bootstrap_cognito,
    configure_environment,
    create_event_bus,
    isolate_from_real_aws,
)
from local.gateway import Functions, Gateway, GatewayServer, make_server
from local.persistence import STORE_FILE, LocalStore, Persistence
from local.relay import ConsumerRelay
from local.state import (
    ADMIN_TOKEN_FILE,
    LocalState,
    ensure_private_dir,
    is_shared_dir,
    save_state,
    write_private,
)

log = logging.getLogger("local")


class CannotListenError(RuntimeError):
    """The API's address is taken or not ours to bind."""


@dataclass(frozen=True)
class Options:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".local")
    aws_port: int = 0
    seed: bool = True
    functions_dir: Path = FUNCTIONS_DIR
    #: Discard the AWS state kept in the data directory (tables' items, Cognito users).
    fresh: bool = False


@dataclass
class Started:
    """What :meth:`LocalServer.start` produced, for the banner and the tests."""

    server_url: str
    aws_endpoint: str
    data_dir: Path
    admin_token: str
    admin_token_path: Path
    state_path: Path
    idp: IdentityProvider
    tables_created: list[str] = field(default_factory=list)
    #: Items per table (and ``cognito users``) loaded from the data directory.
    restored: dict[str, int] = field(default_factory=dict)
    seeded: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def server_url(host: str, port: int) -> str:
    """The URL clients use: a wildcard bind is reached on loopback."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _seed(endpoint: str, idp: IdentityProvider) -> list[str]:
    from local.seed import seed_demo, seed_tenant_admin  # the services, only when seeding

    return seed_demo() + seed_tenant_admin(endpoint, idp)


def _warm_up() -> None:
    """Open each table's connection once, on this thread, before requests race to."""
    for model in ALL_MODELS:
        model.describe_table()


class LocalServer:
    """The local stack. ``start()`` binds and prepares everything and serves in a
    background thread; ``stop()`` undoes it (idempotent)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.aws = EmbeddedAws(options.aws_port)
        self.gateway = Gateway(Functions(options.functions_dir))
        self.httpd: GatewayServer | None = None
        self._thread: threading.Thread | None = None
        self.store: LocalStore | None = None
        self.relay: ConsumerRelay | None = None

    def start(self) -> Started:
        options = self.options
        data_dir = ensure_private_dir(options.data_dir)
        warnings = []
        if is_shared_dir(data_dir):
            warnings.append(f"{data_dir} is readable by other users; prefer a private directory")
        if not is_loopback(options.host):
            warnings.append(
                f"listening on {options.host}: moto's Cognito signs with a key published in the "
                "moto package, so anyone who can reach this port can forge an admin token"
            )
        self.store = LocalStore.open(data_dir, fresh=options.fresh)  # StoreError: in use
        try:  # bound first: a taken port fails fast; requests wait in the backlog
            self.httpd = make_server(options.host, options.port, self.gateway)
        except OSError as error:
            raise CannotListenError(
                f"cannot listen on {options.host}:{options.port}: {error.strerror or error}"
            ) from error
        url = server_url(options.host, self.httpd.server_port)
        isolate_from_real_aws()
        endpoint = self.aws.start()
        persistence = Persistence(self.store, self.aws.dynamodb, self.aws.cognito)
        self.aws.after_each_request(persistence.after_request)

        restored: dict[str, int] = {}
        idp = bootstrap_cognito(
            endpoint, restore=lambda pool_id: restored.update(persistence.restore_cognito(pool_id))
        )
        configure_environment(endpoint=endpoint, issuer=url, data_dir=data_dir, idp=idp)
        created = create_missing_tables(ALL_MODELS)
        restored.update(persistence.restore_items())
        create_event_bus(endpoint)
        self.relay = ConsumerRelay(
            self.gateway.functions,
            account_id=ACCOUNT_ID,
            region=REGION,
            lock=self.aws.lock,
            data_dir=data_dir,
        )
        self.relay.start()
        _warm_up()
        warnings.extend(self.gateway.preload())
        seeded: list[str] = []
        if options.seed:
            try:
                seeded = _seed(endpoint, idp)
            except Exception as error:
                log.exception("seeding the demo data failed")
                warnings.append(f"seeding failed: {type(error).__name__}: {error}")

        admin = idp.accounts["admin"]
        token = access_token(endpoint, idp.user_pool_id, idp.client_id, admin)
        token_path = data_dir / ADMIN_TOKEN_FILE
        write_private(token_path, token + "\n")
        state = LocalState(
            pid=os.getpid(),
            server_url=url,
            port=self.httpd.server_port,
            aws_endpoint=endpoint,
            region=REGION,
            user_pool_id=idp.user_pool_id,
            client_id=idp.client_id,
            oidc_issuer=idp.issuer,
            accounts=dict(idp.accounts),
            admin_token_path=str(token_path),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        state_path = save_state(data_dir, state)
        console.mount(self.gateway, server_url=url, aws_endpoint=endpoint, idp=idp)
        # What start made (restored items, loaded handlers) lives as long as the server:
        # the cyclic collector's full passes need not walk it again and again.
        gc.freeze()

        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.25},
            name="gateway",
            daemon=True,
        )
        self._thread.start()
        return Started(
            server_url=url,
            aws_endpoint=endpoint,
            data_dir=data_dir,
            admin_token=token,
            admin_token_path=token_path,
            state_path=state_path,
            idp=idp,
            tables_created=created,
            restored=restored,
            seeded=seeded,
            warnings=warnings,
        )

    @property
    def serving(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        if self.httpd is not None:
            if self._thread is not None:
                self.httpd.shutdown()  # returns once serve_forever has
                self._thread.join(timeout=5)
                self._thread = None
            self.httpd.server_close()
            self.httpd = None
        if self.relay is not None:  # no request comes any more: deliver what committed
            self.relay.stop()
            self.relay = None
        self.aws.stop()  # waits for the request being served, refuses the rest
        if self.store is not None:
            self.store.close()
            self.store = None


def banner(started: Started) -> str:
    """What ``python -m local`` prints once the API answers."""
    url = started.server_url
    admin = started.idp.accounts["admin"]
    try:
        token_file = started.admin_token_path.relative_to(Path.cwd())
    except ValueError:
        token_file = started.admin_token_path
    command = "python -m local token"
    if started.data_dir == (Path.cwd() / ".local").resolve():
        fresh = f"`make token` ({command})"
    else:
        command += f" --data-dir {started.data_dir}"
        fresh = f"`{command}`"
    accounts = "python -m local accounts" + command.removeprefix("python -m local token")
    lines = [
        "",
        "Licensing API (local) is ready",
        f"  API            {url}",
        f"  Console        {url}/console/  (accounts, passwords, MFA codes: `{accounts}`)",
        f"  Docs           {url}/docs",
        f"  OpenAPI        {url}/openapi.json",
        f"  JWKS           {url}/.well-known/jwks.json",
        f"  AWS (moto)     {started.aws_endpoint}  (DynamoDB, Cognito, KMS; kept in {STORE_FILE})",
        f"  Cognito pool   {started.idp.user_pool_id}  client {started.idp.client_id}",
        f"  Data dir       {started.data_dir}",
        f"  Tables         {', '.join(started.tables_created) or 'none created'}",
    ]
    if started.restored:
        counts = ", ".join(f"{name} {count}" for name, count in sorted(started.restored.items()))
        lines.append(f"  Restored       {counts}")
    lines += [f"  Seeded         {item}" for item in started.seeded]
    lines += [f"  WARNING        {warning}" for warning in started.warnings]
    lines += [
        "",
        f"Admin access token ({admin.username}, group {ADMIN_GROUP}, valid 1 h):",
        started.admin_token,
        "",
        f"Written to {token_file} (0600). A fresh one: {fresh};",
        f"a non-admin user's: `{command} --user user`.",
        f'  curl -H "Authorization: Bearer $(cat {token_file})" {url}/products',
        "",
        "Ctrl-C stops the server.",
        "",
    ]
    return "\n".join(lines)
