"""The statistics rollup's consumers on moto's streams, as the deployed mappings run them."""

from __future__ import annotations

from dataclasses import dataclass, field

from licensing_core.routes import CONSUMERS
from licensing_core.settings import get_settings

from local.streams import EventSourceMapping, Record, StreamCursor
from tests.support import load_handler

ACCOUNT, REGION = "123456789012", "us-east-1"
#: The rollup's consumers (every consumer that writes the statistics table).
ROLLUP = [c for c in CONSUMERS if ("stats", "write") in c.tables]


@dataclass
class Rollup:
    """Every rollup consumer on its table's stream, from the stream's start (the ``aws``
    fixture empties the streams before each test)."""

    mappings: dict[str, EventSourceMapping] = field(default_factory=dict)
    dead_letters: list[Record] = field(default_factory=list)

    @classmethod
    def start(cls) -> Rollup:
        rollup = cls()
        for consumer in ROLLUP:
            table = get_settings().table_name(consumer.stream)
            rollup.mappings[consumer.function] = EventSourceMapping(
                StreamCursor(table, ACCOUNT, REGION),
                load_handler(consumer.function).handler,
                on_failure=rollup.dead_letters.extend,
            )
        return rollup

    def drain(self, max_polls: int = 1000) -> None:
        """Run every consumer until its stream is consumed."""
        for mapping in self.mappings.values():
            for _ in range(max_polls):
                if not mapping.poll():
                    break
            else:
                raise AssertionError("the stream was not consumed")
        assert not self.dead_letters, self.dead_letters

    def redeliver(self) -> None:
        """Every record again, from the stream's start (as after a lost checkpoint)."""
        for mapping in self.mappings.values():
            mapping.cursor.next_sequence = 0
        self.drain()
