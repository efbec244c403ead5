"""CDK entry point (``cdk.json``: ``python3 cdk/app.py``); also runs on its own.

Optional context (``cdk synth -c key=value``):

- ``stage``: suffix of the stack name, ``LicensingStack-<stage>``; none: ``LicensingStack``.
- ``issuer``: ``iss`` of the tokens the service signs (default ``urn:licensing:<stack>``;
  see :class:`cdk.stack.LicensingStack`).
- ``corsAllowOrigins``: comma-separated origins allowed by CORS (default ``*``).
- ``logLevel``: the functions' log level (default ``INFO``).

Run directly, it reads the context of ``cdk.json`` itself (the CLI passes it
otherwise) and writes the assembly to ``$CDK_OUTDIR`` or ``cdk.out``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
# An entry-point script: import ``cdk`` as a package from the repository root (not this
# folder's modules as top-level ones), and ``licensing_core`` from its layer.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
for _path in (ROOT / "layers" / "licensing_core" / "python", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from aws_cdk import App, Tags  # noqa: E402

from cdk.stack import SERVICE_NAME, LicensingStack  # noqa: E402

STACK_NAME = "LicensingStack"


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` block of ``cdk.json`` (feature flags); CLI context overrides it."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    return context


def build_app(outdir: str | None = None) -> App:
    """The app with its one stack, configured from context."""
    app = App(
        context=cdk_json_context(),
        outdir=outdir or os.environ.get("CDK_OUTDIR") or str(ROOT / "cdk.out"),
    )
    stage = _context(app, "stage")
    stack = LicensingStack(
        app,
        f"{STACK_NAME}-{stage}" if stage else STACK_NAME,
        description="Serverless, identity-first licensing service",
        issuer=_context(app, "issuer"),
        cors_origins=_list(_context(app, "corsAllowOrigins") or "*"),
        log_level=_context(app, "logLevel") or "INFO",
    )
    Tags.of(stack).add("service", SERVICE_NAME)
    if stage:
        Tags.of(stack).add("stage", stage)
    return app


def _context(app: App, key: str) -> Any:
    return app.node.try_get_context(key)


def _list(value: str | list[str]) -> list[str]:
    """A list from a comma-separated string (``-c``) or a JSON list (``cdk.json``)."""
    items = value.split(",") if isinstance(value, str) else value
    return [item.strip() for item in items if item.strip()]


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
