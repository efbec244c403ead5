"""Everything the CLI prints: rich tables for people, the API's raw JSON for scripts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from licensing_cli.client import ApiResponse

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
#: Width used when stdout is not a terminal (and COLUMNS is unset): ids never fold.
PIPE_WIDTH = 160

Getter = str | Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Col:
    """A column (or a row of a record view): a header and where its value comes from."""

    header: str
    get: Getter
    style: str | None = None
    no_wrap: bool = False

    def value(self, item: Mapping[str, Any]) -> Any:
        if callable(self.get):
            return self.get(item)
        value: Any = item
        for part in self.get.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return value


def ident(header: str, get: Getter) -> Col:
    """A column of identifiers: highlighted, never folded (people copy them)."""
    return Col(header, get, "cyan", no_wrap=True)


def when(value: Any) -> str:
    """An API timestamp as ``2026-01-31 17:05 UTC``."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def text(value: Any) -> str:
    """A JSON value as a short, readable cell."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and _TIMESTAMP.match(value):
        return when(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(", ", ": "), default=str)
    return str(value)


def scalar_columns(items: Sequence[Mapping[str, Any]]) -> list[Col]:
    """Columns for items of a shape we do not know: every key, in first-seen order."""
    keys: dict[str, None] = {}
    for item in items:
        keys.update(dict.fromkeys(item))
    return [Col(key, key) for key in keys]


def columns_for(items: Sequence[Mapping[str, Any]], preferred: Sequence[Col]) -> list[Col]:
    """``preferred`` columns present in the items, else every key: for answers of
    endpoints whose shape may still change."""
    present = {key for item in items for key in item}
    chosen = [c for c in preferred if isinstance(c.get, str) and c.get.split(".")[0] in present]
    return chosen or scalar_columns(items)


def record_rows(item: Mapping[str, Any]) -> list[Col]:
    """Rows for an object of a shape we do not know: every key."""
    return [Col(key, key) for key in item]


class Output:
    """stdout for results, stderr for everything else; ``json_mode`` prints raw JSON."""

    def __init__(
        self,
        *,
        json_mode: bool,
        stdout: TextIO,
        stderr: TextIO,
        env: Mapping[str, str],
    ) -> None:
        self.json_mode = json_mode
        self.stdout = stdout
        columns = env.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() else None if stdout.isatty() else PIPE_WIDTH
        self.console = Console(file=stdout, width=width, highlight=False, soft_wrap=False)
        self.err = Console(file=stderr, highlight=False, soft_wrap=True)

    # --- results -------------------------------------------------------------------

    def emit(self, response: ApiResponse, render: Callable[[Any], None]) -> None:
        """The API's answer: verbatim with ``--json``, else rendered for people."""
        if self.json_mode:
            self.raw(response.text)
        else:
            render(response.data)

    def raw(self, document: str) -> None:
        self.stdout.write(document.strip() + "\n")
        self.stdout.flush()

    def json_line(self, value: Any) -> None:
        self.raw(json.dumps(value, separators=(",", ":"), default=str))

    def print(self, *renderables: RenderableType) -> None:
        self.console.print(*renderables)

    def table(
        self,
        items: Sequence[Mapping[str, Any]],
        columns: Sequence[Col],
        *,
        title: str | None = None,
        empty: str = "nothing found",
    ) -> None:
        if not items:
            self.print(Text(empty, style="dim"))
            return
        table = Table(title=title, title_justify="left", header_style="bold")
        for column in columns:
            table.add_column(
                column.header, style=column.style, overflow="fold", no_wrap=column.no_wrap
            )
        for item in items:
            table.add_row(*(text(column.value(item)) for column in columns))
        self.print(table)

    def record(
        self, item: Mapping[str, Any], rows: Sequence[Col], *, title: str | None = None
    ) -> None:
        """One object as a two-column table of labelled values."""
        table = Table(title=title, title_justify="left", show_header=False, box=None)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column(overflow="fold")
        for row in rows:
            value = row.value(item)
            table.add_row(row.header, value if isinstance(value, Text) else text(value))
        self.print(table)

    # --- messages on stderr -----------------------------------------------------------

    def note(self, message: str) -> None:
        self.err.print(Text(message, style="dim"))

    def success(self, message: str) -> None:
        if not self.json_mode:
            self.console.print(Text(message, style="green"))

    def error(self, message: str, hint: str | None = None) -> None:
        self.err.print(Text.assemble(("error: ", "bold red"), message))
        if hint:
            self.err.print(Text(f"hint: {hint}", style="yellow"))
