"""Bulk journal, CSV reading and argument parsing, without a server."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from licensing_cli import bulk
from licensing_cli.client import ApiError, Unreachable
from licensing_cli.commands import common
from licensing_cli.commands.bulk_issue import read_csv
from licensing_cli.commands.licenses import diff_rows
from licensing_cli.errors import CliError, UsageError
from licensing_cli.output import Output


def output(json_mode: bool = True) -> tuple[Output, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Output(json_mode=json_mode, stdout=out, stderr=err, env={}), out, err


def items(*labels: str) -> list[bulk.Item]:
    return [bulk.Item(n + 2, bulk.row_key("t", label), label) for n, label in enumerate(labels)]


class Server:
    """A fake remote side: which labels it has done, and how to fail."""

    def __init__(self, fail: Mapping[str, BaseException] | None = None) -> None:
        self.done: list[str] = []
        self.fail = dict(fail or {})
        self.reconciled: list[str] = []

    def perform(self, item: bulk.Item) -> Mapping[str, Any]:
        if item.label in self.fail:
            error = self.fail.pop(item.label)
            if isinstance(error, Unreachable):  # the request went out, the answer was lost
                self.done.append(item.label)
            raise error
        self.done.append(item.label)
        return {"id": f"id-{item.label}"}

    def reconcile(self, item: bulk.Item, pending: Mapping[str, Any]) -> Mapping[str, Any] | None:
        self.reconciled.append(item.label)
        return {"id": f"id-{item.label}"} if item.label in self.done else None

    def operation(self) -> bulk.Operation:
        return bulk.Operation("issue", "issued", self.perform, self.reconcile)


def test_stop_fix_resume_without_doing_anything_twice(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    server = Server({"c": ApiError(422, "CUSTOMER_NOT_FOUND", "no such customer")})
    out, stdout, _ = output()
    assert bulk.run(out, source, items("a", "b", "c", "d"), server.operation()) == 1
    assert server.done == ["a", "b"]
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert [(line["line"], line["status"]) for line in lines] == [
        (2, "done"),
        (3, "done"),
        (4, "failed"),
    ]
    assert lines[2]["error"]["code"] == "CUSTOMER_NOT_FOUND" and lines[2]["error"]["exitCode"] == 1

    out, stdout, _ = output()
    assert bulk.run(out, source, items("a", "b", "c", "d"), server.operation()) == 0
    assert server.done == ["a", "b", "c", "d"]
    assert server.reconciled == []  # a definite 4xx left no pending row behind
    statuses = [json.loads(line)["status"] for line in stdout.getvalue().splitlines()]
    assert statuses == ["skipped", "skipped", "done", "done"]


def test_a_lost_answer_is_reconciled_not_repeated(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    server = Server({"b": Unreachable("timeout")})
    out, _, err = output(json_mode=False)
    assert bulk.run(out, source, items("a", "b", "c"), server.operation()) == 4
    assert "row 3 (b)" in err.getvalue()
    out, stdout, _ = output()
    assert bulk.run(out, source, items("a", "b", "c"), server.operation()) == 0
    assert server.done == ["a", "b", "c"]  # b once, although its answer was lost
    assert server.reconciled == ["b"]
    statuses = [json.loads(line)["status"] for line in stdout.getvalue().splitlines()]
    assert statuses == ["skipped", "adopted", "done"]


def test_keep_going_and_duplicates(tmp_path: Path) -> None:
    server = Server({"a": ApiError(409, "CONFLICT", "no")})
    out, stdout, _ = output()
    code = bulk.run(
        out, tmp_path / "x.csv", items("a", "b", "b"), server.operation(), keep_going=True
    )
    assert code == 1
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert [line["status"] for line in lines] == ["failed", "done", "skipped"]
    assert lines[2]["duplicateOfRow"] == 3


def test_the_journal_survives_a_torn_last_line_but_not_damage(tmp_path: Path) -> None:
    journal = bulk.Journal(tmp_path / "rows.csv")
    item = items("a")[0]
    journal.append(item.key, item, "done", result={"id": 1})
    with journal.path.open("a") as stream:
        stream.write('{"key": "tor')  # a crash mid-write
    done, pending = journal.state()
    assert list(done) == [item.key] and pending == {}
    journal.append(item.key, item, "pending")  # starts on a fresh line; done stays final
    done, pending = journal.state()
    assert list(done) == [item.key] and pending == {}
    journal.path.write_text("garbage\n" + journal.path.read_text())
    with pytest.raises(CliError, match="damaged"):
        journal.state()


def namespace(**values: Any) -> argparse.Namespace:
    defaults = {
        "product": None,
        "tier": None,
        "expires": None,
        "perpetual": False,
        "tenant": "default",
    }
    return argparse.Namespace(**{**defaults, **values})


def test_csv_rows_keys_are_stable_for_relative_expiries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "rows.csv"
    source.write_text(
        "Customer ID,Product,tier,expires_at\n"
        "cus_1,P,pro,+30d\n"
        "\n"
        "ada@example.com,P,free,perpetual\n"
        "bob@example.com,P,free,2030-01-31\n"
    )
    first = read_csv(source, namespace())

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Later:
            return cls(2031, 1, 1, tzinfo=UTC)

    monkeypatch.setattr(common, "datetime", Later)
    second = read_csv(source, namespace())
    assert [i.key for i in first] == [i.key for i in second]
    assert first[0].data["expiresAt"] != second[0].data["expiresAt"]
    assert [i.row for i in first] == [2, 4, 5]
    assert first[1].data == {
        "customer": "ada@example.com",
        "product": "P",
        "tier": "free",
        "perpetual": True,
    }
    assert first[2].data["expiresAt"] == "2030-01-31T23:59:59Z"


def test_csv_defaults_and_errors(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("email\nada@example.com\n")
    rows = read_csv(source, namespace(product="P", tier="pro", expires="+1d"))
    assert rows[0].data["product"] == "P" and "expiresAt" in rows[0].data
    with pytest.raises(UsageError, match="no 'tier' column"):
        read_csv(source, namespace(product="P"))
    source.write_text("customer,product,tier,expiresAt,perpetual\na,P,t,2030-01-01,yes\n")
    with pytest.raises(UsageError, match="exactly one of an expiry and perpetual"):
        read_csv(source, namespace())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-01-31", "2030-01-31T23:59:59Z"),
        ("2030-01-31T10:00:00", "2030-01-31T10:00:00Z"),
        ("2030-01-31T10:00:00+02:00", "2030-01-31T08:00:00Z"),
        ("2030-01-31T10:00:00Z", "2030-01-31T10:00:00Z"),
    ],
)
def test_expiry(text: str, expected: str) -> None:
    assert common.expiry(text) == expected


def test_relative_expiry_and_bad_values() -> None:
    in_a_year = datetime.fromisoformat(common.expiry("+1y").replace("Z", "+00:00"))
    assert 364 <= (in_a_year - datetime.now(UTC)).days <= 365
    with pytest.raises(UsageError, match="not an expiry"):
        common.expiry("next tuesday")


def test_money_and_lists() -> None:
    assert common.money("29") == 2900 and common.money("29.9") == 2990
    assert common.money("0.05") == 5
    with pytest.raises(argparse.ArgumentTypeError):
        common.money("29.999")
    assert common.price(2990, "EUR") == "29.90 EUR"
    assert common.csv_list(" a, b,,c ") == ["a", "b", "c"]
    assert common.key_values(["a=1", "b=true", "c=x=y"], "--meta") == {
        "a": 1,
        "b": True,
        "c": "x=y",
    }


def test_drift_rows_name_the_changed_leaves() -> None:
    rows = diff_rows(
        "limits",
        {"maxUsers": 5, "quotas": {"api": {"limit": 10, "period": "month"}}},
        {"maxUsers": 7, "quotas": {"api": {"limit": 10, "period": "day"}}},
    )
    assert [(r["claim"], r["change"]) for r in rows] == [
        ("limits.maxUsers", "5 → 7"),
        ("limits.quotas.api.period", "month → day"),
    ]
    assert diff_rows("features", ["a", "b"], ["b", "c"])[0]["change"] == "+c -a"


def test_a_failed_lookup_keeps_the_row_pending(tmp_path: Path) -> None:
    """If the server cannot say whether a pending row happened, it stays pending."""
    source = tmp_path / "rows.csv"
    server = Server({"a": Unreachable("timeout")})
    out, _, _ = output()
    assert bulk.run(out, source, items("a"), server.operation()) == 4

    def broken(item: bulk.Item, pending: Mapping[str, Any]) -> Mapping[str, Any] | None:
        raise ApiError(404, "CUSTOMER_NOT_FOUND", "gone")

    operation = bulk.Operation("issue", "issued", server.perform, broken)
    assert bulk.run(out, source, items("a"), operation) == 1
    assert server.done == ["a"]  # not performed again
    _, pending = bulk.Journal(source).state()
    assert list(pending) == [items("a")[0].key]
