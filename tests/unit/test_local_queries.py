"""The local server's queries look only at the items they can match (``local/dynamodb.py``
``indexed_queries``): a random history of writes, run on moto as shipped and on the
patched backend side by side, must answer every query (plain and on secondary indexes,
page by page, both directions) with the same items and the same paging keys."""

from __future__ import annotations

import random
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

from local.dynamodb import indexed_queries, narrow_transactions
from tests.unit.test_local_transactions import ACCOUNT, REGION, create_table

OWNERS = ("o1", "o2", "o3", "o4")
TIERS = ("free", "pro")
IDS = tuple(f"lic{n}" for n in range(12))
MACHINES = ("m1", "m2", "m3")


def _backend(*, patched: bool) -> DynamoDBBackend:
    db = DynamoDBBackend(REGION, ACCOUNT)
    create_table(db, "licenses", "id", indexes={"by-owner": ("owner", "at"), "by-tier": ("tier",)})
    create_table(db, "seats", "license", "machine", indexes={"by-machine": ("machine",)})
    if patched:
        narrow_transactions(db)
        indexed_queries(db)
    return db


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _step(db: DynamoDBBackend, rng: random.Random) -> None:
    """One random write (the same ``rng`` state gives the same write on both backends)."""
    kind = rng.choice(("put", "put", "update", "remove", "delete", "seat", "free", "transact"))
    lic = rng.choice(IDS)
    try:
        if kind == "put":
            item = {"id": _s(lic), "owner": _s(rng.choice(OWNERS)), "at": _s(str(rng.random()))}
            if rng.random() < 0.7:
                item["tier"] = _s(rng.choice(TIERS))
            db.put_item("licenses", item)
        elif kind in ("update", "remove"):
            expression = "SET #o = :o" if kind == "update" else "REMOVE #o"
            values = {":o": _s(rng.choice(OWNERS))} if kind == "update" else {}
            db.update_item("licenses", {"id": _s(lic)}, expression, {"#o": "owner"}, values)
        elif kind == "delete":
            db.delete_item("licenses", {"id": _s(lic)})
        elif kind == "seat":
            db.put_item("seats", {"license": _s(lic), "machine": _s(rng.choice(MACHINES))})
        elif kind == "free":
            db.delete_item("seats", {"license": _s(lic), "machine": _s(rng.choice(MACHINES))})
        else:  # an owner change, then a seat: cancelled when the machine has one already
            db.transact_write_items(
                [
                    {
                        "Update": {
                            "TableName": "licenses",
                            "Key": {"id": _s(lic)},
                            "UpdateExpression": "SET #o = :o, tier = :t",
                            "ConditionExpression": "attribute_exists(id)",
                            "ExpressionAttributeNames": {"#o": "owner"},
                            "ExpressionAttributeValues": {":o": _s("o9"), ":t": _s("pro")},
                        }
                    },
                    {
                        "Put": {
                            "TableName": "seats",
                            "Item": {"license": _s(lic), "machine": _s(rng.choice(MACHINES))},
                            "ConditionExpression": "attribute_not_exists(machine)",
                        }
                    },
                ]
            )
    except Exception as error:  # a refused write is refused on both backends
        assert type(error).__name__ in {"TransactionCanceledException", "ConditionalCheckFailed"}


def _pages(
    db: DynamoDBBackend, table: str, key: str, value: str, index: str | None, forward: bool
) -> Any:
    """Every page of a Query (3 items a page): items and paging keys."""
    pages: list[Any] = []
    start: Any = None
    while True:
        items, scanned, last = db.query(
            table, _s(value), None, [], 3, start, forward, None,
            index_name=index, hash_key_conditions=[(key, _s(value))],
        )  # fmt: skip
        pages.append(([item.to_json() for item in items], scanned, last))
        if not last:
            return pages
        start = last


def _answers(db: DynamoDBBackend) -> list[Any]:
    questions: list[tuple[str, str, str, str | None]] = [("licenses", "id", v, None) for v in IDS]
    questions += [("licenses", "owner", v, "by-owner") for v in (*OWNERS, "o9", "none")]
    questions += [("licenses", "tier", v, "by-tier") for v in TIERS]
    questions += [("seats", "license", v, None) for v in IDS]
    questions += [("seats", "machine", v, "by-machine") for v in (*MACHINES, "m9")]
    return [_pages(db, *question, forward) for question in questions for forward in (True, False)]


def test_queries_answer_as_moto_as_shipped_through_a_random_history() -> None:
    shipped, patched = _backend(patched=False), _backend(patched=True)
    for seed in range(3):
        for db in (shipped, patched):
            rng = random.Random(seed)
            for _ in range(150):
                _step(db, rng)
        # The first query builds the postings from what is there; later writes update them.
        assert _answers(patched) == _answers(shipped), seed
    filed = sum(len(page[0]) for pages in _answers(patched) for page in pages)
    assert filed > 100  # the history left enough to query


def test_an_untracked_write_is_seen_by_the_next_query() -> None:
    shipped, patched = _backend(patched=False), _backend(patched=True)
    for db in (shipped, patched):
        db.put_item("licenses", {"id": _s("a"), "owner": _s("o1"), "at": _s("1")})
        _pages(db, "licenses", "owner", "o1", "by-owner", True)  # postings built
        db.execute_statement("UPDATE licenses SET owner = 'o2' WHERE id = 'a'", [])
    assert _answers(patched) == _answers(shipped)
    assert _pages(patched, "licenses", "owner", "o2", "by-owner", True)[0][0]
