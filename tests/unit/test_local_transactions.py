"""The local server's narrow transactions: moto's TransactWriteItems, backed up by the
items it names instead of whole tables (``local/dynamodb.py``).

Every scenario runs on two backends side by side, moto as shipped and the patched one:
errors (type, message, cancellation reasons) and every item must come out the same.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from moto.core.common_models import BaseModel
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from local.aws import forget_model_instances
from local.dynamodb import WriteLog, narrow_transactions

ACCOUNT = "123456789012"
REGION = "us-east-1"
Transaction = list[dict[str, Any]]


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def create_table(
    db: DynamoDBBackend,
    name: str,
    *keys: str,
    key_type: str = "S",
    stream: bool = False,
    indexes: dict[str, tuple[str, ...]] | None = None,
) -> None:
    """A table keyed by ``keys`` (hash, then range), with global secondary ``indexes``
    (name -> their keys), as CreateTable makes it."""

    def schema(names: tuple[str, ...]) -> list[dict[str, str]]:
        kinds = ("HASH", "RANGE")
        return [{"AttributeName": n, "KeyType": k} for n, k in zip(names, kinds, strict=False)]

    attributes = {key for names in [keys, *(indexes or {}).values()] for key in names}
    db.create_table(
        name,
        schema=schema(keys),
        throughput=None,
        attr=[{"AttributeName": key, "AttributeType": key_type} for key in sorted(attributes)],
        global_indexes=[
            {
                "IndexName": index,
                "KeySchema": schema(names),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, names in (indexes or {}).items()
        ],
        indexes=None,
        streams={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"} if stream else None,
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )


def _backend(*, narrow: bool) -> DynamoDBBackend:
    """A license with a seat counter, two seats and an audit trail (range keys, a stream)."""
    db = DynamoDBBackend(REGION, ACCOUNT)
    create_table(db, "licenses", "pk")
    create_table(db, "seats", "license", "machine")
    create_table(db, "audit", "subject", "at", stream=True)
    db.put_item("licenses", {"pk": _s("lic"), "used": _n(2), "max": _n(3), "tags": {"SS": ["a"]}})
    db.put_item("licenses", {"pk": _s("gone"), "used": _n(0), "max": _n(1)})
    for machine in ("m1", "m2"):
        db.put_item("seats", {"license": _s("lic"), "machine": _s(machine), "n": _n(1)})
    db.put_item("audit", {"subject": _s("lic"), "at": _s("0"), "action": _s("created")})
    if narrow:
        narrow_transactions(db)
    return db


def _take_seat(machine: str, *, limit: int = 3) -> Transaction:
    return [
        {
            "Update": {
                "TableName": "licenses",
                "Key": {"pk": _s("lic")},
                "UpdateExpression": "SET used = used + :one",
                "ConditionExpression": "used < :max",
                "ExpressionAttributeValues": {":one": _n(1), ":max": _n(limit)},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {
            "Put": {
                "TableName": "seats",
                "Item": {"license": _s("lic"), "machine": _s(machine), "n": _n(1)},
                "ConditionExpression": "attribute_not_exists(machine)",
            }
        },
        {"Put": {"TableName": "audit", "Item": {"subject": _s("lic"), "at": _s(machine)}}},
    ]


def _free_seat_and_drop(machine: str) -> Transaction:
    return [
        {"Delete": {"TableName": "seats", "Key": {"license": _s("lic"), "machine": _s(machine)}}},
        {"Delete": {"TableName": "licenses", "Key": {"pk": _s("gone")}}},
        {
            "Update": {
                "TableName": "licenses",
                "Key": {"pk": _s("lic")},
                "UpdateExpression": "SET used = used - :one ADD tags :t",
                "ExpressionAttributeValues": {":one": _n(1), ":t": {"SS": ["b"]}},
            }
        },
        {"Put": {"TableName": "audit", "Item": {"subject": _s("lic"), "at": _s("x" + machine)}}},
    ]


def _condition(table: str, key: dict[str, Any], expression: str) -> dict[str, Any]:
    check = {"TableName": table, "Key": key, "ConditionExpression": expression}
    if ":big" in expression:
        check["ExpressionAttributeValues"] = {":big": _n(100)}
    return {"ConditionCheck": check}


SCENARIOS: list[tuple[str, Transaction]] = [
    ("takes the last seat", _take_seat("m3")),
    ("no seat left: the counter's condition fails (ALL_OLD)", _take_seat("m4")),
    ("a known machine: the seat's condition fails", _take_seat("m1", limit=9)),
    (
        "frees a seat and deletes an item, then a condition check fails",
        [*_free_seat_and_drop("m2"), _condition("licenses", {"pk": _s("lic")}, "used > :big")],
    ),
    (
        "fails on a missing table after writing",
        [*_free_seat_and_drop("m2"), _condition("nope", {"pk": _s("x")}, "attribute_exists(pk)")],
    ),
    (
        "fails validation (two operations on one item) after writing",
        [
            *_free_seat_and_drop("m1"),
            {"Delete": {"TableName": "licenses", "Key": {"pk": _s("lic")}}},
        ],
    ),
    (
        "a Put without its key after writing",
        [*_take_seat("m5", limit=9), {"Put": {"TableName": "seats", "Item": {"n": _n(1)}}}],
    ),
    ("frees a seat for good", _free_seat_and_drop("m2")),
]


def _contents(db: DynamoDBBackend) -> dict[str, Any]:
    """Every item, every partition key, every stream record's event and keys."""
    out: dict[str, Any] = {}
    for name, table in sorted(db.tables.items()):
        out[name] = [item.to_json() for item in table.all_items()]
        if table.stream_shard is not None:
            out[name + " stream"] = [
                (
                    r.record["eventName"],
                    r.record["dynamodb"]["SequenceNumber"],
                    r.record["dynamodb"]["Keys"],
                )
                for r in table.stream_shard.items
            ]
    return out


def _outcome(db: DynamoDBBackend, transaction: Transaction) -> tuple[str, str, str] | None:
    try:
        db.transact_write_items(copy.deepcopy(transaction))
    except Exception as error:  # moto's errors carry the reasons in their description
        return type(error).__name__, str(error), str(getattr(error, "description", ""))
    return None


def test_every_scenario_ends_as_with_moto_as_shipped() -> None:
    shipped, narrow = _backend(narrow=False), _backend(narrow=True)
    failed = 0
    for name, transaction in SCENARIOS:
        expected = _outcome(shipped, transaction)
        assert _outcome(narrow, transaction) == expected, name
        assert _contents(narrow) == _contents(shipped), name
        failed += expected is not None
    assert failed == 6  # the scenarios fail where they say they do


def test_a_failed_transaction_leaves_every_item_it_named_as_before() -> None:
    db = _backend(narrow=True)
    tables = dict(db.tables)
    before = _contents(db)
    transaction = [
        *_free_seat_and_drop("m1"),
        {"Put": {"TableName": "seats", "Item": {"license": _s("new"), "machine": _s("m")}}},
        _condition("seats", {"license": _s("lic"), "machine": _s("m2")}, "attribute_not_exists(n)"),
    ]
    outcome = _outcome(db, transaction)
    assert outcome is not None and outcome[0] == "TransactionCanceledException"
    assert "None, None, None, None, None, ConditionalCheckFailed" in outcome[1]
    # Updated, deleted (in two tables) and created items are as they were; the stream
    # records of the undone writes are gone; no partition of the created item is left.
    assert _contents(db) == before
    assert DynamoType(_s("new")) not in db.tables["seats"].items
    # No table was swapped for a copy: moto's backup was the table itself.
    assert all(db.tables[name] is table for name, table in tables.items())


def test_a_later_transaction_sees_the_restored_items() -> None:
    db = _backend(narrow=True)
    assert _outcome(
        db, [*_take_seat("m3"), _condition("licenses", {"pk": _s("gone")}, "used > :big")]
    )
    assert _outcome(db, _take_seat("m3")) is None  # the seat is free again
    assert _outcome(db, _take_seat("m4")) is not None  # and now the license is full


def test_the_write_log_names_each_written_item_once_with_its_image_after() -> None:
    db = _backend(narrow=True)
    log = WriteLog(db)
    log.install()
    assert _outcome(db, _free_seat_and_drop("m2")) is None
    written = {(w.table, w.key): w.attributes for w in log.drain()}
    assert len(written) == 4
    assert written[("seats", '["S:lic", "S:m2"]')] is None
    assert written[("licenses", '["S:gone", null]')] is None
    assert written[("licenses", '["S:lic", null]')] == {
        "pk": _s("lic"), "used": _n(1), "max": _n(3), "tags": {"SS": ["a", "b"]},
    }  # fmt: skip
    assert log.drain() == []
    # A cancelled transaction: what it touched is logged with its unchanged image.
    assert _outcome(
        db, [*_take_seat("m9"), _condition("licenses", {"pk": _s("lic")}, "used > :big")]
    )
    images = {(w.table, w.key): w.attributes for w in log.drain()}
    assert images[("licenses", '["S:lic", null]')] == written[("licenses", '["S:lic", null]')]
    assert images[("seats", '["S:lic", "S:m9"]')] is None


def test_numbers_spelled_differently_name_one_item() -> None:
    db = DynamoDBBackend(REGION, ACCOUNT)
    create_table(db, "n", "k", key_type="N")
    log = WriteLog(db)
    log.install()
    db.put_item("n", {"k": {"N": "10"}})
    db.delete_item("n", {"k": {"N": "1E+1"}})
    assert [(w.key, w.attributes) for w in log.drain()] == [('["N:1E+1", null]', None)]


@pytest.fixture
def model_tracking_restored() -> Iterator[None]:
    saved = BaseModel.__dict__["__new__"]
    yield
    BaseModel.__new__ = saved  # type: ignore[method-assign]


@pytest.mark.usefixtures("model_tracking_restored")
def test_moto_keeps_no_item_once_told_not_to() -> None:
    forget_model_instances()
    tracked = len(Item.instances_tracked)  # type: ignore[attr-defined]
    items = [Item(DynamoType(_s(str(n))), None, {"pk": _s(str(n))}) for n in range(3)]
    assert [item.attrs["pk"].value for item in items] == ["0", "1", "2"]
    assert len(Item.instances_tracked) == tracked  # type: ignore[attr-defined]
