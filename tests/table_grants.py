"""The tables each function touches in the tests, against what its row grants.

moto does not enforce IAM: a handler that reads or writes a table its row in the route
table does not grant passes every in-process test, and fails with AccessDenied only
after a deploy. So every in-process invocation (:func:`tests.support.load_handler`) runs
under :func:`attributed`: a botocore hook on every DynamoDB client records each call made
meanwhile as the IAM actions it needs, per table (logical name), and :func:`violations`
compares them with the function's row (``ROUTES``, ``JOBS``, ``CONSUMERS``,
``TRIGGERS``), from which CDK grants exactly these tables. A call its row does not allow
fails the invocation (an ``AssertionError`` naming route, table and action); the session
hooks below (loaded by ``tests/integration/conftest.py``) fail the session too, should a
test swallow that error, and report which functions no test ran (not a failure).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import pytest
from botocore.handlers import BUILTIN_HANDLERS
from licensing_core import routes
from licensing_core.settings import Settings, get_settings
from licensing_core.store.models import ALL_MODELS

#: What CDK's ``grant_read_data`` allows, and what ``grant_read_write_data`` adds.
READ_ACTIONS = frozenset(
    {"GetItem", "BatchGetItem", "Query", "Scan", "ConditionCheckItem", "DescribeTable"}
)
WRITE_ACTIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
#: The IAM action of each item of a transaction (a condition check only reads).
_TRANSACT_ITEM_ACTIONS = {
    "Get": "GetItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}

Grants = Mapping[str, Mapping[str, routes.TableAccess]]


class Touch(NamedTuple):
    """One function's use of one table: ``action`` is the IAM action it needs."""

    function: str
    table: str  #: logical name; the physical one when no logical name maps to it
    action: str


@dataclass
class Recording:
    """What handlers did during the session (thread-safe: some tests race handlers)."""

    touches: set[Touch] = field(default_factory=set)
    ran: set[str] = field(default_factory=set)
    calls: int = 0
    violations: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, touches: Iterable[Touch]) -> None:
        with self._lock:
            self.touches.update(touches)
            self.calls += 1


RECORDING = Recording()
#: The function whose handler is running, and the tables it touched so far.
_running: ContextVar[tuple[str, set[Touch]] | None] = ContextVar("table_grants", default=None)

F = TypeVar("F", bound=Callable[..., Any])


def attributed(function: str, handler: F) -> F:
    """``handler`` of ``functions/<function>``: the DynamoDB calls it makes are its own,
    and one its row does not allow fails the invocation."""

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Any:
        RECORDING.ran.add(function)
        touched: set[Touch] = set()
        token = _running.set((function, touched))
        try:
            result = handler(*args, **kwargs)
        finally:
            _running.reset(token)
            found = violations(touched, grants())
            RECORDING.violations.extend(found)
        if found:
            raise AssertionError("\n".join(found))
        return result

    return run  # type: ignore[return-value]


@contextmanager
def elsewhere() -> Iterator[None]:
    """Calls a test makes while a handler runs, standing for another request (a change
    racing the handler): not the handler's own."""
    token = _running.set(None)
    try:
        yield
    finally:
        _running.reset(token)


def table_actions(operation: str, params: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(physical table, IAM action)`` for each table a DynamoDB call names."""
    if operation in ("TransactWriteItems", "TransactGetItems"):
        for item in params.get("TransactItems", ()):
            for kind, request in item.items():
                yield request["TableName"], _TRANSACT_ITEM_ACTIONS.get(kind, kind)
    elif operation in ("BatchWriteItem", "BatchGetItem"):
        for table in params.get("RequestItems", {}):
            yield table, operation
    elif "TableName" in params:
        yield params["TableName"], operation
    else:  # ListTables and the like: no table, and no grant allows them
        yield "*", operation


@functools.cache
def _all_logical_names() -> frozenset[str]:
    names = {model.logical_name for model in ALL_MODELS}
    return frozenset(names | {table for tables in grants().values() for table in tables})


_names_under: tuple[Settings, dict[str, str]] | None = None


def _logical_names(settings: Settings) -> dict[str, str]:
    """``physical -> logical`` table names under ``settings`` (tests change them)."""
    global _names_under
    if _names_under is None or _names_under[0] is not settings:
        names = {settings.table_name(name): name for name in _all_logical_names()}
        _names_under = (settings, names)
    return _names_under[1]


def _record(params: Mapping[str, Any], model: Any, **_: Any) -> None:
    """botocore ``before-parameter-build.dynamodb``: record the call of a running handler."""
    running = _running.get()
    if running is None:  # a fixture or a test itself, not a handler
        return
    function, touched = running
    logical = _logical_names(get_settings())
    touches = {
        Touch(function, logical.get(table, table), action)
        for table, action in table_actions(model.name, params)
    }
    touched |= touches
    RECORDING.add(touches)


def install() -> None:
    """Hook every DynamoDB client created from now on (as moto hooks its stubber)."""
    hook = ("before-parameter-build.dynamodb", _record)
    if hook not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.append(hook)


@functools.cache
def grants() -> dict[str, dict[str, routes.TableAccess]]:
    """``function -> {table: access}`` from every row that deploys a function."""
    rows: tuple[routes.Route | routes.Job | routes.StreamConsumer | routes.Trigger, ...] = (
        *routes.ROUTES,
        *routes.JOBS,
        *routes.CONSUMERS,
        *routes.TRIGGERS,
    )
    table: dict[str, dict[str, routes.TableAccess]] = {}
    for row in rows:
        granted = table.setdefault(row.function, {})
        for name, access in row.tables:
            granted[name] = "write" if "write" in (access, granted.get(name)) else "read"
    return table


def describe(function: str) -> str:
    """A function as its row names it: ``POST /products (create_product)``."""
    for route in routes.ROUTES:
        if route.function == function:
            return f"{route.route_key} ({function})"
    for kind, rows in (
        ("job", routes.JOBS),
        ("stream consumer", routes.CONSUMERS),
        ("trigger", routes.TRIGGERS),
    ):
        if any(row.function == function for row in rows):
            return f"{kind} {function}"
    return f"{function} (no row in the route table)"


def violations(touches: Iterable[Touch], granted: Grants) -> list[str]:
    """Each touch that the function's grants do not allow, as IAM would refuse it."""
    found = []
    for touch in sorted(touches):
        access = granted.get(touch.function, {}).get(touch.table)
        allowed = {
            None: frozenset(),
            "read": READ_ACTIONS,
            "write": READ_ACTIONS | WRITE_ACTIONS,
        }[access]
        if touch.action in allowed:
            continue
        if access is None:
            why = "which its row does not grant"
        elif touch.action in WRITE_ACTIONS:
            why = "which its row grants read only"
        else:
            why = "an action no table grant allows"
        found.append(f"{describe(touch.function)}: {touch.action} on table {touch.table!r}, {why}")
    return found


def coverage(recording: Recording, granted: Grants) -> str:
    missed = sorted(set(granted) - recording.ran)
    line = (
        f"table grants: {len(granted) - len(missed)} of {len(granted)} functions run in "
        f"process, {recording.calls} DynamoDB calls checked against their rows"
    )
    return f"{line}; not run: {', '.join(missed)}" if missed else line


# --- pytest hooks (imported by tests/integration/conftest.py) --------------------------


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the session when a handler touched a table its row does not allow."""
    if RECORDING.violations:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RECORDING.violations:
        terminalreporter.section("table grants", red=True, bold=True)
        terminalreporter.line(
            "Handlers touched tables their route-table rows do not allow (AccessDenied once "
            "deployed: moto does not enforce IAM):",
            red=True,
        )
        for line in sorted(set(RECORDING.violations)):
            terminalreporter.line(f"  {line}", red=True)
    if RECORDING.ran:
        terminalreporter.line(coverage(RECORDING, grants()))
