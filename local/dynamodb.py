"""The embedded DynamoDB, patched for a server that runs for days.

moto's ``transact_write_items`` deep-copies every table a transaction names, to put
the copies back if the transaction fails. The audit table grows with every write, so
every write copied more than the last (seconds, and gigabytes, after some thousands).
:func:`narrow_transactions` keeps moto's transaction code as it is (validation,
conditions, cancellation reasons) and replaces only that backup: the items the
transaction names are copied before it runs and put back, or removed, if it fails.

moto also answers every Query by sorting the whole table; :func:`indexed_queries`
hands its query code only the items it can match (the partition, or those a secondary
index files under the asked value), kept up to date by every write.

:class:`WriteLog` records which items each request wrote, so that
:mod:`local.persistence` stores their new images.

All patch one backend instance, never moto's classes: moto used elsewhere in the
process (``mock_aws`` in tests) keeps its own behaviour.
"""

from __future__ import annotations

import copy
import json
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
#: An item's place: its table, hash key and range key.
ItemKey = tuple[Table, DynamoType, DynamoType | None]


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
    elif item is not None:
        items[hash_value][range_value] = item
    else:
        partition = items.get(hash_value)
        if partition is not None:
            partition.pop(range_value, None)
            if not partition:
                del items[hash_value]
    _refile((table, hash_value, range_value))


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


# --- Queries -----------------------------------------------------------------------------
#
# moto answers every Query by sorting every item of the table and keeping those under the
# asked key: on a table that grows with each write (licenses, activations), each Query
# costs more than the last. Here moto's query code runs as it is, on the items it can
# match instead: the partition, or for a secondary index the items filed under the asked
# value of its hash attribute.

_SCALARS = frozenset({"S", "N", "B"})


def _in_table_order(items: Iterable[Item]) -> list[Item]:
    """``items`` in the order of ``Table.all_items``."""
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _every_item(table: Table) -> Iterator[Item]:
    partitions: Iterable[Any] = table.items.values()  # Items, or {range: Item}
    for partition in partitions:
        yield from partition.values() if table.range_key_attr else [partition]


class _Postings:
    """The items one secondary index files under each value of its hash attribute."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute
        self.keys: dict[DynamoType, dict[str, tuple[DynamoType, DynamoType | None]]] = {}
        self._filed: dict[str, DynamoType] = {}

    def file(
        self, hash_value: DynamoType, range_value: DynamoType | None, item: Item | None
    ) -> None:
        text = key_text(hash_value, range_value)
        value = item.attrs.get(self.attribute) if item is not None else None
        old = self._filed.pop(text, None)
        if old is not None:
            filed = self.keys[old]
            del filed[text]
            if not filed:
                del self.keys[old]
        if value is not None and value.type in _SCALARS:  # no index holds other types
            self.keys.setdefault(value, {})[text] = (hash_value, range_value)
            self._filed[text] = value


class _Indexes:
    """The postings of a table's secondary indexes (those with one hash attribute)."""

    def __init__(self, table: Table) -> None:
        self.postings: dict[str, _Postings] = {}
        for index in table.all_indexes():
            hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            if len(hashes) == 1:
                self.postings[index.name] = _Postings(hashes[0])
        for item in _every_item(table):
            self.file(item.hash_key, item.range_key, item)

    def file(
        self, hash_value: DynamoType, range_value: DynamoType | None, item: Item | None
    ) -> None:
        for postings in self.postings.values():
            postings.file(hash_value, range_value, item)


#: Built at a table's first Query on an index, kept up to date by every write after.
_INDEXES: weakref.WeakKeyDictionary[Table, _Indexes] = weakref.WeakKeyDictionary()


def _refile(key: ItemKey) -> None:
    table, hash_value, range_value = key
    indexes = _INDEXES.get(table)
    if indexes is not None:
        indexes.file(hash_value, range_value, current_item(table, hash_value, range_value))


def _candidates(
    table: Table,
    hash_key: Attributes | None,
    index_name: str | None,
    conditions: Sequence[tuple[str, Attributes]] | None,
) -> list[Item] | None:
    """The items a Query can match, in table order; None: let moto look at them all."""
    if not index_name:
        if not hash_key:
            return None
        partition: Any = table.items.get(DynamoType(dict(hash_key)))
        if partition is None:
            return []
        return _in_table_order(partition.values() if table.range_key_attr else [partition])
    if not conditions or len(conditions) != 1:
        return None
    indexes = _INDEXES.get(table)
    if indexes is None:
        indexes = _INDEXES[table] = _Indexes(table)
    postings = indexes.postings.get(index_name)
    attribute, value = conditions[0]
    if postings is None or postings.attribute != attribute:
        return None
    found = postings.keys.get(DynamoType(dict(value)), {}).values()
    return _in_table_order(
        item for item in (current_item(table, *key) for key in found) if item is not None
    )


#: Calls that change items or indexes other than through PutItem, UpdateItem, DeleteItem:
#: the postings are built again at the next Query.
_UNTRACKED = (
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
    "update_table",
    "delete_table",
    "restore_table_from_backup",
    "restore_table_to_point_in_time",
    "import_table",
)


def indexed_queries(db: DynamoDBBackend) -> None:
    """Make ``db``'s Query look only at the items it can match."""
    query: Callable[..., Any] = db.query

    def narrow_query(
        table_name: str,
        hash_key: Attributes | None,
        *args: Any,
        index_name: str | None = None,
        hash_key_conditions: Sequence[tuple[str, Attributes]] | None = None,
        **kwargs: Any,
    ) -> Any:
        def run() -> Any:
            return query(
                table_name,
                hash_key,
                *args,
                index_name=index_name,
                hash_key_conditions=hash_key_conditions,
                **kwargs,
            )

        table = _table(db, table_name)
        found = (
            None if table is None else _candidates(table, hash_key, index_name, hash_key_conditions)
        )
        if table is None or found is None:
            return run()
        vars(table)["all_items"] = lambda: found
        try:
            return run()
        finally:
            vars(table).pop("all_items", None)

    def forgetting(call: Callable[..., Any]) -> Callable[..., Any]:
        def forget_after(*args: Any, **kwargs: Any) -> Any:
            try:
                return call(*args, **kwargs)
            finally:
                _INDEXES.clear()

        return forget_after

    db.query = narrow_query  # type: ignore[method-assign,assignment]
    after_item_writes(db, _refile)
    for name in _UNTRACKED:
        setattr(db, name, forgetting(getattr(db, name)))


# --- What each request wrote ---------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """The image of an item after a request (``attributes`` None: deleted)."""

    table: str
    key: str
    attributes: dict[str, Any] | None


def after_item_writes(db: DynamoDBBackend, callback: Callable[[ItemKey], None]) -> None:
    """Call ``callback((table, hash, range))`` after each PutItem, UpdateItem and
    DeleteItem through ``db``, and so after each write of a BatchWriteItem or a
    TransactWriteItems (moto makes them of those), whether or not it succeeded."""
    put_item, update_item, delete_item = db.put_item, db.update_item, db.delete_item

    def noted(table_name: str, attributes: Attributes) -> None:
        table = _table(db, table_name)
        key = _key_values(table, attributes) if table is not None else None
        if table is not None and key is not None:
            callback((table, *key))

    def put(table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
        try:
            return put_item(table_name, item_attrs, *args, **kwargs)
        finally:
            noted(table_name, item_attrs)

    def update(table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
        try:
            return update_item(table_name, key, *args, **kwargs)
        finally:
            noted(table_name, key)

    def delete(table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Item | None:
        try:
            return delete_item(table_name, key, *args, **kwargs)
        finally:
            noted(table_name, key)

    db.put_item = put  # type: ignore[method-assign]
    db.update_item = update  # type: ignore[method-assign]
    db.delete_item = delete  # type: ignore[method-assign]


class WriteLog:
    """The items written through ``db`` since the last :meth:`drain`."""

    def __init__(self, db: DynamoDBBackend) -> None:
        self.db = db
        self._keys: dict[tuple[str, str], ItemKey] = {}

    def install(self) -> None:
        after_item_writes(self.db, self._note)

    def _note(self, key: ItemKey) -> None:
        table, hash_value, range_value = key
        self._keys[(table.name, key_text(hash_value, range_value))] = key

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
