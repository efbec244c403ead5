"""``licensing login | logout | whoami | token``: credentials for the other commands."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import Any

from licensing_cli.auth import (
    Login,
    client_credentials_login,
    password_login,
    region_of,
    unverified_claims,
)
from licensing_cli.commands.common import Registry
from licensing_cli.context import Context
from licensing_cli.errors import AuthError, UsageError
from licensing_cli.output import Col

LOGIN_HELP = """\
Log in and cache the access token for the profile (0600, under the config dir).

  user + password (Cognito InitiateAuth USER_PASSWORD_AUTH; asks for an MFA code
  when Cognito wants one):
      licensing login --username admin@example.com --client-id ID --region eu-west-1
  machine (OAuth2 client credentials at the Cognito domain's token endpoint):
      licensing login --client-id ID --client-secret SECRET \\
          --token-url https://DOMAIN.auth.eu-west-1.amazoncognito.com/oauth2/token

--mfa insists on a login that passed MFA (what step-up actions need) and saves
nothing otherwise. Defaults come from the profile (client_id, username, region, cognito_endpoint,
token_url, scope). The password is read from $LICENSING_PASSWORD, --password-stdin,
or asked; the client secret from --client-secret or $LICENSING_CLIENT_SECRET."""
WHOAMI_ROWS = (
    Col("Token from", "source"),
    Col("Subject", "subject"),
    Col("Username", "username"),
    Col("Groups", "groups"),
    Col("Client", "client_id"),
    Col("Scope", "scope"),
    Col("Logged in at", "auth_time"),
    Col("Expires", "exp"),
    Col("Auth context", "acr"),
    Col("Methods", "amr"),
    Col("MFA", "mfa"),
)


def register(cli: Registry) -> None:
    login_cmd = cli.command(None, "login", login, "Log in and cache a token", LOGIN_HELP)
    login_cmd.add_argument("--username")
    login_cmd.add_argument("--password-stdin", action="store_true", help="read the password")
    login_cmd.add_argument("--mfa-code", help="the MFA code (else it is asked for)")
    login_cmd.add_argument("--client-id")
    login_cmd.add_argument("--client-secret", help="client credentials, or a client with a secret")
    login_cmd.add_argument("--region")
    login_cmd.add_argument("--cognito-endpoint", help="another Cognito endpoint (moto)")
    login_cmd.add_argument("--token-url", help="OAuth2 token endpoint (client credentials)")
    login_cmd.add_argument("--scope")
    cli.command(None, "logout", logout, "Forget the profile's cached token")
    cli.command(None, "whoami", whoami, "Show who the token in use belongs to (not verified)")
    cli.command(None, "token", token, "Print the token in use (for curl and scripts)")


def _setting(ctx: Context, args: argparse.Namespace, name: str) -> str | None:
    """An option, else the profile's value."""
    return getattr(args, name, None) or ctx.profile.get(name)


def _password(ctx: Context, args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if ctx.env.get("LICENSING_PASSWORD"):
        return ctx.env["LICENSING_PASSWORD"]
    if not sys.stdin.isatty():
        raise UsageError("no password", hint="use --password-stdin or set LICENSING_PASSWORD")
    return getpass.getpass("Password: ")


def _code_asker(args: argparse.Namespace) -> Any:
    def ask(prompt: str) -> str:
        if args.mfa_code:
            return str(args.mfa_code)
        if not sys.stdin.isatty():
            raise AuthError("Cognito asks for an MFA code", hint="pass --mfa-code")
        return input(f"MFA {prompt}: ")

    return ask


def _obtain(ctx: Context, args: argparse.Namespace) -> Login:
    client_id = _setting(ctx, args, "client_id")
    if not client_id:
        raise UsageError(
            "no Cognito app client", hint="pass --client-id or set client_id in the profile"
        )
    secret = args.client_secret or ctx.env.get("LICENSING_CLIENT_SECRET")
    if secret and not args.username:
        token_url = _setting(ctx, args, "token_url")
        if not token_url:
            raise UsageError("client credentials need --token-url (or token_url in the profile)")
        return client_credentials_login(
            token_url=token_url,
            client_id=client_id,
            client_secret=secret,
            scope=_setting(ctx, args, "scope"),
            timeout=ctx.options.timeout,
        )
    endpoint = _setting(ctx, args, "cognito_endpoint")
    region = (
        _setting(ctx, args, "region")
        or ctx.env.get("AWS_REGION")
        or ctx.env.get("AWS_DEFAULT_REGION")
        or region_of(endpoint, _setting(ctx, args, "token_url"))
    )
    if not region:
        raise UsageError(
            "no AWS region for Cognito", hint="pass --region or set region in the profile"
        )
    username = _setting(ctx, args, "username")
    if not username:
        if not sys.stdin.isatty():
            raise UsageError("no username", hint="pass --username or set username in the profile")
        username = input("Username: ").strip()
    return password_login(
        client_id=client_id,
        username=username,
        password=_password(ctx, args),
        region=region,
        endpoint=endpoint,
        client_secret=secret,
        ask_code=_code_asker(args),
    )


def login(ctx: Context, args: argparse.Namespace) -> None:
    result = _obtain(ctx, args)
    if ctx.options.mfa and not result.mfa:
        raise AuthError(
            f"Cognito did not ask {result.subject} for an MFA code, so this login cannot "
            "satisfy step-up; the token was not saved",
            hint="set up MFA (an authenticator app) for this user in Cognito",
        )
    path = ctx.token_cache.save(result)
    summary = {
        "profile": ctx.profile.name,
        "subject": result.subject,
        "method": result.method,
        "mfa": result.mfa,
        "expiresAt": result.expires_at.isoformat(),
        "cache": str(path),
    }
    if ctx.out.json_mode:
        ctx.out.json_line(summary)
        return
    ctx.out.success(
        f"Logged in as {result.subject} (profile {ctx.profile.name}, MFA: "
        f"{'yes' if result.mfa else 'no'}); valid until {result.expires_at:%Y-%m-%d %H:%M} UTC"
    )
    ctx.out.note(f"token cached in {path}")


def logout(ctx: Context, args: argparse.Namespace) -> None:
    removed = ctx.token_cache.clear()
    ctx.out.success(
        f"Logged out of profile {ctx.profile.name}" if removed else "There was no cached login."
    )


def _source(ctx: Context) -> str:
    if ctx.options.token:
        return "--token"
    if ctx.options.local:
        return f"--local ({ctx.options.data_dir})"
    if ctx.env.get("LICENSING_TOKEN"):
        return "$LICENSING_TOKEN"
    return f"login cache ({ctx.token_cache.path})"


def _timestamp(value: Any) -> str | None:
    return datetime.fromtimestamp(value, UTC).isoformat() if isinstance(value, int) else None


def whoami(ctx: Context, args: argparse.Namespace) -> None:
    claims = unverified_claims(ctx.token())
    cached = ctx.token_cache.load() if _source(ctx).startswith("login cache") else None
    info = {
        "source": _source(ctx),
        "subject": claims.get("sub"),
        "username": claims.get("username") or claims.get("email"),
        "groups": claims.get("cognito:groups") or claims.get("groups"),
        "client_id": claims.get("client_id") or claims.get("azp"),
        "scope": claims.get("scope"),
        "auth_time": _timestamp(claims.get("auth_time")),
        "exp": _timestamp(claims.get("exp")),
        "acr": claims.get("acr"),
        "amr": claims.get("amr"),
        "mfa": cached.mfa if cached else "mfa" in (claims.get("amr") or []) or None,
    }
    if ctx.out.json_mode:
        ctx.out.json_line(info)
    else:
        ctx.out.record(info, WHOAMI_ROWS, title="Current credentials (decoded, not verified)")


def token(ctx: Context, args: argparse.Namespace) -> None:
    ctx.out.raw(ctx.token())
