"""The route table's stream consumers, run on the embedded moto as Lambda runs them.

``make run`` starts one :class:`ConsumerRelay`: a thread that feeds every consumer of
``routes.CONSUMERS`` (the lifecycle-event publisher among them) from its table's stream
with the deployed mapping's semantics (:class:`local.streams.EventSourceMapping`), logs
each lifecycle event it delivered, appends the records a consumer gave up on to
``<data-dir>/dead-letters.jsonl``, and forgets what every consumer is past.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from licensing_core import outbox
from licensing_core.routes import CONSUMERS, StreamConsumer
from licensing_core.settings import get_settings

from local.gateway import Functions, LambdaContext
from local.streams import EventSourceMapping, Record, StreamCursor, trim

log = logging.getLogger("local.events")
DEAD_LETTERS_FILE = "dead-letters.jsonl"
#: How long the relay rests when no stream has anything new.
IDLE_SECONDS = 0.2
#: How long stopping may spend delivering what was committed before the stop.
DRAIN_SECONDS = 5.0


class ConsumerRelay:
    """One thread polling every consumer's mapping in turn."""

    def __init__(
        self,
        functions: Functions,
        *,
        account_id: str,
        region: str,
        lock: AbstractContextManager[Any],
        data_dir: Path,
        consumers: Sequence[StreamConsumer] = CONSUMERS,
    ) -> None:
        self._dead_letters = data_dir / DEAD_LETTERS_FILE
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        settings = get_settings()
        #: Consumer -> its mapping; cursors start at the end (LATEST): what was restored
        #: from the data directory was delivered when it was written.
        self.mappings: dict[StreamConsumer, EventSourceMapping] = {}
        for consumer in consumers:
            if not functions.path(consumer.function).is_file():
                continue
            table = settings.table_name(consumer.stream)
            self.mappings[consumer] = EventSourceMapping(
                StreamCursor.at_end(table, account_id, region, lock),
                functions.load(consumer.function).handler,
                on_failure=self._give_up,
                context=functools.partial(LambdaContext, consumer.function),
            )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stream-consumers", daemon=True)
        self._thread.start()

    def stop(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Stop polling, then deliver what is committed and not yet consumed (a change
        whose response went out just before Ctrl-C still publishes its events), for at
        most ``drain_seconds``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        deadline = time.monotonic() + drain_seconds
        while time.monotonic() < deadline:
            try:
                if self.poll() == 0:
                    return
            except Exception:
                log.warning("stream consumers: the last poll failed", exc_info=True)
                return
        log.warning("stream consumers: stopped before delivering every committed record")

    def poll(self) -> int:
        """Give every consumer one batch; how many records they are done with."""
        done = 0
        for consumer, mapping in self.mappings.items():
            delivered = mapping.poll()
            done += len(delivered)
            if consumer.publishes_events:
                _log_events(delivered)
        by_table: dict[str, list[StreamCursor]] = defaultdict(list)
        for mapping in self.mappings.values():
            by_table[mapping.cursor.table_name].append(mapping.cursor)
        for cursors in by_table.values():
            trim(cursors)
        return done

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll() > 0
            except Exception:  # the embedded AWS stopping, a consumer's bug: go on later
                log.warning("stream consumers: poll failed", exc_info=True)
                busy = False
            if not busy:
                self._stop.wait(IDLE_SECONDS)

    def _give_up(self, records: Sequence[Record]) -> None:
        with self._dead_letters.open("a", encoding="utf-8") as dead_letters:
            for record in records:
                dead_letters.write(json.dumps(record, default=str) + "\n")
        log.warning("%d stream record(s) given up on: see %s", len(records), self._dead_letters)


def _log_events(records: Sequence[Record]) -> None:
    for item in outbox.committed(records):
        event = outbox.event_of(item.audit)
        if event is not None:
            log.info(
                "event %s %s %s", event.detail_type, event.detail["eventId"], item.audit.subject_id
            )
