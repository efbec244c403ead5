"""``licensing keys``: the published signing keys and the rotation status."""

from __future__ import annotations

import argparse
import base64
import binascii
from collections.abc import Mapping
from typing import Any

from rich.text import Text

from licensing_cli.commands.common import Registry
from licensing_cli.context import Context
from licensing_cli.output import Col, ident

COLUMNS = (
    Col("#", "index"),
    ident("Key id (kid)", "kid"),
    Col("Alg", "alg"),
    Col("Use", "use"),
    Col("Type", "kty"),
    Col("Bits", "bits"),
    Col("Role", "role", "bold"),
)
#: Discovery members worth showing, in this order (others are listed after them).
CONFIG_ROWS = (
    "issuer",
    "jwks_uri",
    "token_signing_alg_values_supported",
    "token_encryption_alg_values_supported",
    "token_encryption_enc_values_supported",
    "token_types_supported",
)


def register(cli: Registry) -> None:
    group = cli.group("keys", "Token signing keys (JWKS) and rotation")
    cli.command(
        group, "show", show, "Show the published keys: the current one signs, the others verify"
    )


def _bits(modulus: Any) -> int | None:
    try:
        return len(base64.urlsafe_b64decode(str(modulus) + "=" * (-len(str(modulus)) % 4))) * 8
    except (ValueError, binascii.Error):
        return None


def rows(jwks: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The keys with their role: the first is current (it signs new tokens)."""
    return [
        {
            **key,
            "index": index + 1,
            "bits": _bits(key.get("n")),
            "role": "current (signs)" if index == 0 else "previous (verifies only)",
        }
        for index, key in enumerate(jwks.get("keys", []))
    ]


def rotation_status(keys: list[dict[str, Any]]) -> str:
    if not keys:
        return "no key is published: the server cannot sign"
    if len(keys) == 1:
        return f"no rotation in progress: one key ({keys[0]['kid']}) signs and verifies"
    return (
        f"rotation in progress: new tokens are signed with {keys[0]['kid']}; "
        f"{len(keys) - 1} previous key(s) still verify the tokens they signed"
    )


def show(ctx: Context, args: argparse.Namespace) -> None:
    def render(jwks: Any) -> None:
        keys = rows(jwks)
        ctx.out.table(keys, COLUMNS, title="Signing keys (/.well-known/jwks.json)")
        ctx.out.print(Text(rotation_status(keys), style="bold"))
        config = ctx.public_api.get("/.well-known/license-configuration").data
        ordered = [k for k in CONFIG_ROWS if k in config] + [
            k for k in config if k not in CONFIG_ROWS and "endpoint" not in k and k != "openapi_uri"
        ]
        ctx.out.record(
            config,
            [Col(k, k) for k in ordered],
            title="Discovery (/.well-known/license-configuration)",
        )

    ctx.out.emit(ctx.public_api.get("/.well-known/jwks.json"), render)
