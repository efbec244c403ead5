"""The embedded DynamoDB, patched for a server that runs for days.

moto's ``transact_write_items`` deep-copies every table a transaction names, to put
the copies back if the transaction fails. The audit table grows with every write, so
every write copied more than the last (seconds, and gigabytes, after some thousands).
:func:`narrow_transactions` keeps moto's transaction code as it is (validation,
conditions, cancellation reasons) and replaces only that backup: the items the
transaction names are copied before it runs and put back, or removed, if it fails.

:class:`WriteLog` records which items each request wrote, so that
:mod:`local.persistence` stores their new images.

Both patch one backend instance, never moto's classes: moto used elsewhere in the
process (``mock_aws`` in tests) keeps its own behaviour.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from moto.dynamodb.exceptions import ResourceNotFoundException
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

#: DynamoDB JSON: attribute name -> {type: value}.
Attributes = Mapping[str, Any]


def backend(account_id: str, region: str) -> DynamoDBBackend:
    """moto's DynamoDB of that account and region (created if new)."""
    found: DynamoDBBackend = dynamodb_backends[account_id][region]
    return found


# --- Items by key ------------------------------------------------------------------


def _key_values(
    table: Table, attributes: Attributes
) -> tuple[DynamoType, DynamoType | None] | None:
    """The table's key of an item or key map; None when a key attribute is missing
    (moto refuses such a request itself)."""
    names = table.table_key_attrs
    if any(name not in attributes for name in names):
        return None
    hash_value = DynamoType(attributes[table.hash_key_attr])
    range_value = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _canonical(value: DynamoType | None) -> str | None:
    if value is None:
        return None
    if value.type == "N":
        try:  # 1 and 1.0 name the same item
            return f"N:{Decimal(str(value.value)).normalize()}"
        except InvalidOperation:
            pass
    return f"{value.type}:{value.value}"


def key_text(hash_value: DynamoType, range_value: DynamoType | None) -> str:
    """One string per item of a table, whatever the spelling of its key."""
    return json.dumps([_canonical(hash_value), _canonical(range_value)])


def current_item(
    table: Table, hash_value: DynamoType, range_value: DynamoType | None
) -> Item | None:
    """The stored item, if any; unlike ``Table.get_item`` it never adds an empty
    partition to the table."""
    partition: Any = table.items.get(hash_value)  # an Item, or {range: Item}
    if table.range_key_attr is None or partition is None:
        return cast(Item | None, partition)
    return cast(Item | None, partition.get(range_value))


def place_item(
    table: Table, hash_value: DynamoType, range_value: DynamoType | None, item: Item | None
) -> None:
    """Make ``item`` the stored item at that key (None: no item there)."""
    items: dict[DynamoType, Any] = table.items  # {hash: Item}, or {hash: {range: Item}}
    if table.range_key_attr is None:
        if item is None:
            items.pop(hash_value, None)
        else:
            items[hash_value] = item
        return
    if item is not None:
        items[hash_value][range_value] = item
        return
    partition = items.get(hash_value)
    if partition is not None:
        partition.pop(range_value, None)
        if not partition:
            del items[hash_value]


def load_item(table: Table, attributes: Attributes) -> None:
    """Store an item image as it is (a restore: no condition, no validation).

    The attributes go into the item's dict directly: moto's checks the size of the
    whole item at each attribute it adds (quadratic, and most of a restore's time),
    and this image passed those checks when it was written. Attribute names are
    interned: every item of a table shares them."""
    key = _key_values(table, attributes)
    if key is None:
        raise ValueError(f"an item of {table.name} without its key: {sorted(attributes)}")
    item = Item(*key, {})
    for name, value in attributes.items():
        dict.__setitem__(item.attrs, sys.intern(name), DynamoType(value))
    place_item(table, *key, item)


def _table(db: DynamoDBBackend, name: str) -> Table | None:
    try:
        return db.get_table(name)  # a name or an ARN
    except ResourceNotFoundException:
        return None


# --- Narrow transactions -----------------------------------------------------------


@dataclass(frozen=True)
class _Before:
    """An item as it was before a transaction (None: there was none)."""

    table: Table
    hash_value: DynamoType
    range_value: DynamoType | None
    item: Item | None


def _named_items(db: DynamoDBBackend, transact_items: Sequence[Mapping[str, Any]]) -> list[_Before]:
    """A copy of every item the transaction names, keyed once per item."""
    before: dict[tuple[str, str], _Before] = {}
    for entry in transact_items:
        for operation, request in entry.items():
            if not isinstance(request, Mapping):
                continue
            table = _table(db, str(request.get("TableName", "")))
            if table is None:
                continue
            named = request.get("Item") if operation == "Put" else request.get("Key")
            key = _key_values(table, named) if isinstance(named, Mapping) else None
            if key is None:
                continue
            slot = (table.name, key_text(*key))
            if slot not in before:
                item = current_item(table, *key)
                before[slot] = _Before(table, *key, copy.deepcopy(item))
    return list(before.values())


@contextmanager
def _tables_not_copied(tables: list[Table]) -> Iterator[None]:
    """moto's backup of each table is the table itself while this lasts (its own
    restore is then a no-op, and :func:`_put_back` restores the named items)."""
    for table in tables:
        vars(table)["__deepcopy__"] = lambda memo, table=table: table
    try:
        yield
    finally:
        for table in tables:
            vars(table).pop("__deepcopy__", None)


def _put_back(before: list[_Before], streams: Mapping[Table, int]) -> None:
    for entry in before:
        place_item(entry.table, entry.hash_value, entry.range_value, entry.item)
    for table, length in streams.items():  # stream records of the undone writes
        if table.stream_shard is not None:
            del table.stream_shard.items[length:]


def narrow_transactions(db: DynamoDBBackend) -> None:
    """Make ``db``'s TransactWriteItems back up only the items it names."""
    original: Callable[[list[dict[str, Any]]], None] = db.transact_write_items

    def transact_write_items(transact_items: list[dict[str, Any]]) -> None:
        before = _named_items(db, transact_items)
        tables = list({id(entry.table): entry.table for entry in before}.values())
        streams = {t: len(t.stream_shard.items) for t in tables if t.stream_shard is not None}
        try:
            with _tables_not_copied(list(db.tables.values())):
                original(transact_items)
        except BaseException:
            _put_back(before, streams)
            raise

    db.transact_write_items = transact_write_items  # type: ignore[method-assign]


# --- What each request wrote ---------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """The image of an item after a request (``attributes`` None: deleted)."""

    table: str
    key: str
    attributes: dict[str, Any] | None


class WriteLog:
    """The items written through ``db`` (PutItem, UpdateItem, DeleteItem, and the
    BatchWriteItem and TransactWriteItems made of them) since the last :meth:`drain`."""

    def __init__(self, db: DynamoDBBackend) -> None:
        self.db = db
        self._keys: dict[tuple[str, str], tuple[Table, DynamoType, DynamoType | None]] = {}

    def install(self) -> None:
        db = self.db
        put_item, update_item, delete_item = db.put_item, db.update_item, db.delete_item

        def logged_put(
            table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any
        ) -> Item:
            self._note(table_name, item_attrs)
            return put_item(table_name, item_attrs, *args, **kwargs)

        def logged_update(table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
            self._note(table_name, key)
            return update_item(table_name, key, *args, **kwargs)

        def logged_delete(
            table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any
        ) -> Item | None:
            self._note(table_name, key)
            return delete_item(table_name, key, *args, **kwargs)

        db.put_item = logged_put  # type: ignore[method-assign]
        db.update_item = logged_update  # type: ignore[method-assign]
        db.delete_item = logged_delete  # type: ignore[method-assign]

    def _note(self, table_name: str, attributes: Attributes) -> None:
        table = _table(self.db, table_name)
        key = _key_values(table, attributes) if table is not None else None
        if table is not None and key is not None:
            self._keys[(table.name, key_text(*key))] = (table, *key)

    def drain(self) -> list[Written]:
        """The current image of every item written since the last call."""
        written = []
        for (name, text), (table, hash_value, range_value) in self._keys.items():
            item = current_item(table, hash_value, range_value)
            written.append(
                Written(name, text, None if item is None else item.to_json()["Attributes"])
            )
        self._keys.clear()
        return written
