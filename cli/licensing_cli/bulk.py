"""Bulk operations that can be interrupted and resumed without doing anything twice.

Each input row gets a deterministic key (a hash of what the row asks for). Its
outcome is appended to a journal next to the input, ``<input>.journal.jsonl``:

* ``pending`` just before a non-idempotent request is sent,
* ``done`` (with the result) once the API has answered,
* ``failed`` when the API definitely refused it (nothing happened).

A re-run skips ``done`` rows. A ``pending`` row without an outcome is one whose
answer was lost (crash, network): the operation's ``reconcile`` looks on the server
whether it happened, so even without server-side idempotency nothing is done twice.
The same key also goes out as the ``Idempotency-Key`` header, for servers that honour it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from licensing_cli.client import ApiError, Unreachable
from licensing_cli.errors import CliError, Exit, UsageError, describe, exit_code
from licensing_cli.output import Col, Output


def row_key(kind: str, *parts: Any) -> str:
    """The deterministic key of a row: SHA-256 of its canonical JSON."""
    canonical = json.dumps([kind, *parts], separators=(",", ":"), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Item:
    """One row of the input."""

    row: int  #: line number in the input file
    key: str
    label: str  #: how people recognise the row (a customer, a license id)
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    item: Item
    status: str  #: done, skipped (already done), adopted (found done on the server), failed
    result: Mapping[str, Any] = field(default_factory=dict)
    error: BaseException | None = None


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Journal:
    """``<input>.journal.jsonl``: append-only, one JSON object per line, 0600 (lines may
    hold license keys), flushed to disk line by line."""

    def __init__(self, source: Path) -> None:
        self.path = source.with_name(source.name + ".journal.jsonl")
        self._repaired = False

    def state(self) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """``(done, pending)`` by key; a later line overrides an earlier one."""
        latest: dict[str, dict[str, Any]] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                key = entry["key"]
            except (ValueError, KeyError, TypeError):
                if number == len(lines):  # a line torn by a crash mid-write
                    continue
                raise CliError(
                    f"{self.path}:{number} is damaged; fix or remove that line"
                ) from None
            if latest.get(key, {}).get("state") != "done":  # done is final
                latest[key] = entry
        done = {k: e for k, e in latest.items() if e.get("state") == "done"}
        pending = {k: e for k, e in latest.items() if e.get("state") == "pending"}
        return done, pending

    def append(self, key: str, item: Item, state: str, **fields: Any) -> None:
        entry = {"key": key, "row": item.row, "label": item.label, "state": state, "at": _now()}
        entry.update(fields)
        self._drop_torn_line()
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(self.path, flags, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(entry, separators=(",", ":"), default=str) + "\n")
            stream.flush()
            os.fsync(stream.fileno())

    def _drop_torn_line(self) -> None:
        """Cut a last line left half-written by a crash (it never counted); once per run."""
        if self._repaired:
            return
        self._repaired = True
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        if data and not data.endswith(b"\n"):
            os.truncate(self.path, data.rfind(b"\n") + 1)


@dataclass(frozen=True)
class Operation:
    """What to do with each row.

    ``perform(item)`` does it and returns what to journal; ``reconcile(item, pending)``
    returns the result of a row that was in flight when a previous run stopped, if the
    server shows it happened (None: it did not; do it now). Without ``reconcile`` the
    operation must be idempotent on the server."""

    verb: str  #: for messages: "issue", "revoke"
    past: str  #: "issued", "revoked"
    perform: Callable[[Item], Mapping[str, Any]]
    reconcile: Callable[[Item, Mapping[str, Any]], Mapping[str, Any] | None] | None = None
    columns: Sequence[Col] = ()


def _definitely_refused(error: BaseException) -> bool:
    """Whether the server certainly did nothing (a 4xx, or we never sent it)."""
    if isinstance(error, ApiError):
        return error.status < 500
    return not isinstance(error, Unreachable)


Explain = Callable[[BaseException], tuple[str, str | None]]


def run(
    out: Output,
    source: Path,
    items: Sequence[Item],
    operation: Operation,
    *,
    keep_going: bool = False,
    explain: Explain = describe,
) -> int:
    """Apply ``operation`` to every item not yet done; the exit code of the first failure.
    ``explain`` words errors as the single commands do (``Context.describe``)."""
    journal = Journal(source)
    done, pending = journal.state()
    outcomes: list[Outcome] = []
    seen: dict[str, int] = {}
    with _Progress(out, operation.verb, len(items)) as (progress, task):
        for item in items:
            outcome = _one(journal, operation, item, done, pending, seen)
            outcomes.append(outcome)
            _report(out, outcome, explain)
            progress.advance(task)
            if outcome.status == "failed" and not keep_going:
                break
    return _summary(out, journal, operation, items, outcomes, explain)


def settled(
    item: Item, done: Mapping[str, Mapping[str, Any]], seen: dict[str, int]
) -> Outcome | None:
    """The outcome of a row with nothing left to do: a repeat of an earlier row (``seen``:
    key -> row, updated), or done by an earlier run; None for a row still to do."""
    if item.key in seen:
        return Outcome(item, "skipped", {"duplicateOfRow": seen[item.key]})
    seen[item.key] = item.row
    if item.key in done:
        return Outcome(item, "skipped", done[item.key].get("result", {}))
    return None


def _one(
    journal: Journal,
    operation: Operation,
    item: Item,
    done: dict[str, dict[str, Any]],
    pending: Mapping[str, Mapping[str, Any]],
    seen: dict[str, int],
) -> Outcome:
    skipped = settled(item, done, seen)
    if skipped is not None:
        return skipped
    if operation.reconcile is not None and item.key in pending:
        try:
            found = operation.reconcile(item, pending[item.key])
        except (ApiError, Unreachable, CliError) as error:
            return Outcome(item, "failed", error=error)  # still pending: look again next time
        if found is not None:
            journal.append(item.key, item, "done", result=dict(found), adopted=True)
            return Outcome(item, "adopted", found)
    try:
        if operation.reconcile is not None:
            journal.append(item.key, item, "pending", **item.data)
        result = operation.perform(item)
    except (ApiError, Unreachable, CliError) as error:
        if operation.reconcile is not None and _definitely_refused(error):
            journal.append(item.key, item, "failed", error=describe(error)[0])
        return Outcome(item, "failed", error=error)
    journal.append(item.key, item, "done", result=dict(result))
    done[item.key] = {"result": dict(result)}
    return Outcome(item, "done", result)


class _NoProgress:
    def advance(self, task: Any) -> None:
        pass


class _Progress:
    """A rich progress bar on stderr, when stderr is a terminal."""

    def __init__(self, out: Output, verb: str, total: int) -> None:
        self.enabled = out.err.is_terminal
        self.progress = Progress(
            TextColumn(f"{verb}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=out.err,
            transient=True,
            disable=not self.enabled,
        )
        self.total = total

    def __enter__(self) -> tuple[Any, Any]:
        if not self.enabled:
            return _NoProgress(), None
        self.progress.start()
        return self.progress, self.progress.add_task("rows", total=self.total)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()


class BadRows(UsageError):
    """Rows of an input file that cannot be done, found before anything was (exit 2)."""

    def __init__(
        self, source: Path, problems: Sequence[tuple[int, str]], hint: str | None = None
    ) -> None:
        lines = "".join(f"\n  line {row}: {problem}" for row, problem in problems)
        super().__init__(f"{source}: {len(problems)} bad row(s), nothing done:{lines}", hint)
        self.problems = list(problems)

    def report(self, out: Output) -> None:
        """``--json``: one line per bad row, as rows are reported when they run."""
        if out.json_mode:
            for row, problem in self.problems:
                error = {"message": problem, "exitCode": int(self.exit_code)}
                out.json_line({"line": row, "status": "invalid", "error": error})


def _report(out: Output, outcome: Outcome, explain: Explain) -> None:
    """``--json``: one line per row, as it happens."""
    if not out.json_mode:
        return
    line: dict[str, Any] = {"line": outcome.item.row, "status": outcome.status}
    line["input"] = outcome.item.label
    line.update(outcome.result)
    if outcome.error is not None:
        line["error"] = _error_fields(outcome.error, explain)
    out.json_line(line)


def _error_fields(error: BaseException, explain: Explain) -> dict[str, Any]:
    fields: dict[str, Any] = {"message": explain(error)[0], "exitCode": int(exit_code(error))}
    if isinstance(error, ApiError):
        fields.update(code=error.code, status=error.status)
    return fields


def _summary(
    out: Output,
    journal: Journal,
    operation: Operation,
    items: Sequence[Item],
    outcomes: Iterable[Outcome],
    explain: Explain,
) -> int:
    outcomes = list(outcomes)
    failed = [o for o in outcomes if o.status == "failed"]
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "adopted")}
    untouched = len(items) - len(outcomes)
    if not out.json_mode:
        rows = [
            {
                "line": o.item.row,
                "input": o.item.label,
                "status": o.status,
                **o.result,
                "error": explain(o.error)[0] if o.error else None,
            }
            for o in outcomes
        ]
        columns = [Col("Line", "line"), Col("Input", "input"), Col("Status", "status")]
        columns += operation.columns
        if failed:
            columns.append(Col("Error", "error", "red"))
        out.table(rows, columns)
    parts = [
        f"{counts['done']} {operation.past}",
        f"{counts['skipped']} skipped (already done)",
    ]
    if counts["adopted"]:
        parts.append(f"{counts['adopted']} found done on the server")
    if failed:
        parts.append(f"{len(failed)} failed")
    if untouched:
        parts.append(f"{untouched} not attempted")
    out.note(", ".join(parts) + f"; journal: {journal.path}")
    if not failed:
        return Exit.OK
    message, hint = explain(failed[0].error or CliError("failed"))
    out.error(f"row {failed[0].item.row} ({failed[0].item.label}): {message}", hint)
    out.note("fix the input and run the same command again: rows already done are skipped")
    return int(exit_code(failed[0].error or CliError("failed")))
