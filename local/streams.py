"""DynamoDB streams of an in-process moto, consumed as Lambda's event source mapping does.

:class:`StreamCursor` reads a table's stream shard where it left off; :func:`trim`
drops what every consumer is past (moto keeps every stream record in memory otherwise).
:class:`EventSourceMapping` feeds a stream consumer (``routes.CONSUMERS``) the way the
deployed mapping is configured (``cdk/streams.py``): batches of at most 100 records,
partial batch failures retried from the first failed record, a batch that raises
halved until the failing record is alone, a record that keeps failing handed to
``on_failure`` (the dead-letter queue) after ``max_retries`` and skipped. The local
server runs the consumers with it; tests drive it to inject faults.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import StreamShard

Record = dict[str, Any]
StreamHandler = Callable[[Mapping[str, Any], Any], Mapping[str, Any]]


def stream_shard(table_name: str, account_id: str, region: str) -> StreamShard:
    """The one shard of an in-process moto table's stream."""
    table = dynamodb_backends[account_id][region].get_table(table_name)
    if table.stream_shard is None:
        raise LookupError(f"table {table_name} has no stream")
    return table.stream_shard


@dataclass
class StreamCursor:
    """Where a consumer is in a table's stream: records before ``next_sequence`` are
    done. The shard is looked up on every use: moto replaces a table (and its stream)
    with a copy when a transaction rolls back."""

    table_name: str
    account_id: str
    region: str
    next_sequence: int = 0
    #: Held while the shard is read or trimmed (the embedded moto's request lock).
    lock: AbstractContextManager[Any] = field(default_factory=nullcontext)

    @classmethod
    def at_end(
        cls,
        table_name: str,
        account_id: str,
        region: str,
        lock: AbstractContextManager[Any] | None = None,
    ) -> StreamCursor:
        """A cursor past every record the stream holds now (``LATEST``)."""
        shard = stream_shard(table_name, account_id, region)
        end = shard.starting_sequence_number + len(shard.items)
        return cls(table_name, account_id, region, end, lock or nullcontext())

    @property
    def shard(self) -> StreamShard:
        return stream_shard(self.table_name, self.account_id, self.region)

    def batch(self, limit: int) -> list[Record]:
        """Up to ``limit`` records from the cursor on, as Lambda's event carries them."""
        with self.lock:
            shard = self.shard
            self.next_sequence = max(self.next_sequence, shard.starting_sequence_number)
            arn = f"{shard.table.table_arn}/stream/{shard.table.latest_stream_label}"
            records = shard.get(self.next_sequence, limit)
        return [{**record, "eventSourceARN": arn} for record in records]

    def advance(self, records: int) -> None:
        """The next ``records`` records are done."""
        self.next_sequence += records


def trim(cursors: Sequence[StreamCursor]) -> None:
    """Forget the records every cursor of a shard is past (moto keeps them all); new
    records keep numbering on from the shard's start."""
    with cursors[0].lock:
        shard = cursors[0].shard
        consumed = min(c.next_sequence for c in cursors) - shard.starting_sequence_number
        if consumed > 0:
            del shard.items[:consumed]
            shard.starting_sequence_number += consumed


def sequence_number(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


@dataclass
class EventSourceMapping:
    """Feeds ``handler`` from ``cursor`` with the deployed mapping's semantics."""

    cursor: StreamCursor
    handler: StreamHandler
    on_failure: Callable[[Sequence[Record]], None]
    batch_size: int = 100
    max_retries: int = 10
    #: Makes the Lambda context of one invocation.
    context: Callable[[], Any] = lambda: None
    #: Failed attempts per record (by sequence number) still being retried.
    attempts: Counter[str] = field(default_factory=Counter)

    def poll(self) -> list[Record]:
        """Deliver one batch; the records now done (handled, or given up on)."""
        records = self.cursor.batch(self.batch_size)
        if not records:
            return []
        done = self._deliver(records)
        self.cursor.advance(done)
        return records[:done]

    def _deliver(self, records: list[Record]) -> int:
        """How many leading ``records`` are done after one invocation (or a bisection)."""
        try:
            response = self.handler({"Records": records}, self.context())
        except Exception:
            if len(records) == 1:
                return self._failed(records[0])
            half = len(records) // 2
            done = self._deliver(records[:half])
            return done if done < half else half + self._deliver(records[half:])
        failures = {str(f.get("itemIdentifier")) for f in response.get("batchItemFailures", [])}
        if not failures:
            for record in records:
                self.attempts.pop(sequence_number(record), None)
            return len(records)
        positions = [i for i, record in enumerate(records) if sequence_number(record) in failures]
        first = min(positions, default=0)  # an unknown identifier fails the whole batch
        for record in records[:first]:
            self.attempts.pop(sequence_number(record), None)
        return first + self._failed(records[first])

    def _failed(self, record: Record) -> int:
        """1 when ``record`` used its retries (handed to ``on_failure``), else 0."""
        number = sequence_number(record)
        self.attempts[number] += 1
        if self.attempts[number] <= self.max_retries:
            return 0
        del self.attempts[number]
        self.on_failure([record])
        return 1
