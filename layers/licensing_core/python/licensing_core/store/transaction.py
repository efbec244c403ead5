"""One DynamoDB transaction whose items say what their failed condition means.

DynamoDB reports a cancelled transaction as one reason per item, in the order
PynamoDB sends them (condition checks, deletes, puts, updates), not the order they
were added. This class keeps each item's meaning beside it, so callers never
count positions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from licensing_core.domain.errors import ConcurrentChange
from licensing_core.store.base import connection
from licensing_core.store.errors import transact

Meaning = Exception | None
_KINDS = ("check", "delete", "save", "update")


@dataclass
class Transaction:
    """Collects writes, then runs them atomically with bounded conflict retries."""

    _items: list[tuple[str, Callable[[TransactWrite], None], Meaning]] = field(default_factory=list)

    def check(
        self, model: type[Model], key: Any, condition: Condition, meaning: Meaning = None
    ) -> None:
        self._add("check", lambda t: t.condition_check(model, key, condition=condition), meaning)

    def delete(
        self, record: Model, condition: Condition | None = None, meaning: Meaning = None
    ) -> None:
        self._add("delete", lambda t: t.delete(record, condition=condition), meaning)

    def save(
        self, record: Model, condition: Condition | None = None, meaning: Meaning = None
    ) -> None:
        self._add("save", lambda t: t.save(record, condition=condition), meaning)

    def update(
        self,
        record: Model,
        actions: Sequence[Action],
        condition: Condition | None = None,
        meaning: Meaning = None,
    ) -> None:
        self._add(
            "update",
            lambda t: t.update(record, actions=list(actions), condition=condition),
            meaning,
        )

    def _add(self, kind: str, add: Callable[[TransactWrite], None], meaning: Meaning) -> None:
        self._items.append((kind, add, meaning))

    def run(self, otherwise: Exception | None = None) -> None:
        """Commit; a failed condition raises its item's meaning (else ``otherwise``, else
        :class:`ConcurrentChange`)."""
        ordered = sorted(self._items, key=lambda item: _KINDS.index(item[0]))

        def write() -> None:
            with TransactWrite(connection=connection()) as transaction:
                for _, add, _ in ordered:
                    add(transaction)

        def meaning(reasons: list[str | None]) -> Exception:
            for reason, (_, _, what) in zip(reasons, ordered, strict=False):
                if reason == "ConditionalCheckFailed" and what is not None:
                    return what
            return otherwise or ConcurrentChange("the record changed meanwhile; read it again")

        transact(write, on_condition_failed=meaning)
