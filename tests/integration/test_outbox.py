"""The audit table is the outbox: every committed audit record that is a lifecycle event
reaches the bus at least once, and nothing else does.

Requests run against moto; ``functions/publish_events`` is fed from moto's DynamoDB
stream of the audit table with the deployed mapping's semantics
(:class:`local.streams.EventSourceMapping`: partial batch failures, bisect on error,
bounded retries); EventBridge is moto's, with a rule copying every event to a queue.
Faults are injected everywhere between a commit and the bus.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from licensing_core import aws, events, outbox
from licensing_core.domain.errors import ConcurrentChange
from licensing_core.settings import get_settings
from licensing_core.store import errors as store_errors
from licensing_core.store import transaction
from licensing_core.store.models import AuditRecord

from local.streams import EventSourceMapping, StreamCursor, trim
from tests.integration.conftest import tier_body
from tests.support import Response, invoke, load_handler

EVENTS_DOC = Path(__file__).resolve().parents[2] / "cdk" / "EVENTS.md"
Admin = Callable[..., Response]


def documented_fields() -> dict[str, set[str]]:
    """detail-type -> the fields its table in EVENTS.md lists."""
    sections = re.split(r"^### `([a-z_.]+)`\s*$", EVENTS_DOC.read_text(), flags=re.MULTILINE)
    return {
        name: set(re.findall(r"^\| `(\w+)`", body, flags=re.MULTILINE))
        for name, body in zip(sections[1::2], sections[2::2], strict=True)
    }


@dataclass
class Outbox:
    """The audit stream, its publisher, and what reached the bus."""

    mapping: EventSourceMapping
    queue_url: str
    sqs: Any
    received: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)

    def drain(self, max_polls: int = 10_000) -> None:
        """Run the publisher until the stream is consumed, then collect the bus's events."""
        for _ in range(max_polls):
            if not self.mapping.cursor.batch(1):
                break
            self.mapping.poll()
        else:
            raise AssertionError("the stream was not consumed")
        trim([self.mapping.cursor])
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return
            self.received += [json.loads(message["Body"]) for message in messages]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(messages)
                ],
            )

    def by_type(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for event in self.received:
            found.setdefault(event["detail-type"], []).append(event["detail"])
        return found


@pytest.fixture
def publisher(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Outbox]:
    """The publisher on the audit stream from now on, a bus and a queue behind a rule."""
    client = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    client.create_event_bus(Name="outbox-test")
    queue_url = sqs.create_queue(QueueName="outbox-test")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    client.put_rule(
        Name="everything", EventBusName="outbox-test", EventPattern='{"source": ["licensing"]}'
    )
    client.put_targets(
        Rule="everything",
        EventBusName="outbox-test",
        Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}],
    )
    monkeypatch.setenv(events.BUS_ENV, "outbox-test")
    audit_table = get_settings().table_name(AuditRecord.logical_name)
    cursor = StreamCursor.at_end(audit_table, "123456789012", "us-east-1")
    found = Outbox(
        EventSourceMapping(cursor, load_handler("publish_events").handler, lambda r: None),
        queue_url,
        sqs,
    )
    found.mapping.on_failure = found.dead_letters.extend
    yield found
    client.remove_targets(Rule="everything", EventBusName="outbox-test", Ids=["q"])
    client.delete_rule(Name="everything", EventBusName="outbox-test")
    client.delete_event_bus(Name="outbox-test")
    sqs.delete_queue(QueueUrl=queue_url)


def committed_events() -> dict[str, str]:
    """eventId -> detail-type of every audit record in the table that is an event."""
    return {
        outbox.event_id(record): record.action
        for record in AuditRecord.scan()
        if record.action in events.DETAIL_TYPES
    }


def lifecycle(admin: Admin, product: str, label: str) -> None:
    """Every kind of change: issue, activate (one refused at the seat limit), report
    usage over quota, deactivate, suspend, reinstate, renew, regenerate, deactivate and
    reactivate the identity, revoke."""
    one_seat = admin(
        "POST",
        f"/products/{product}/tiers",
        tier_body(f"solo-{label}", maxUsers=1, quotas={"api_calls": {"limit": 5, "period": "day"}}),
    ).json["tierId"]
    tenant = admin("POST", "/tenants", {"name": f"Events {label}"}).json["tenantId"]
    customer = admin(
        "POST",
        "/customers",
        {"email": f"ev-{label}@example.com", "name": "Ev", "tenantId": tenant},
    ).json["customerId"]
    key = admin(
        "POST",
        "/license-keys",
        {"productId": product, "tierId": one_seat, "customerId": customer,
         "expiresAt": "2090-01-01T00:00:00Z"},
    ).json  # fmt: skip
    license_path = f"/license-keys/{key['licenseId']}"
    activate = "/license-activations/activate"
    activated = invoke("POST", activate, body={"keyToken": key["keyToken"], "machineId": "m1"})
    refused = invoke("POST", activate, body={"keyToken": key["keyToken"], "machineId": "m2"})
    assert (activated.status, refused.status) == (201, 409), refused.text
    usage = {"keyToken": key["keyToken"], "meter": "api_calls", "quantity": 6}
    assert invoke("POST", "/usage", body={**usage, "idempotencyKey": label}).status == 429
    client_id = activated.json["clientId"]
    invoke("POST", "/license-activations/deactivate", body={"clientId": client_id})
    for path, body in (
        (f"{license_path}/suspend", {"reason": "unpaid"}),
        (f"{license_path}/reinstate", {}),
        (f"{license_path}/renew", {"expiresAt": "2099-01-01T00:00:00Z"}),
        (f"{license_path}/regenerate", {}),
        (f"/customers/{customer}/deactivate", {"reason": "left"}),
        (f"/customers/{customer}/reactivate", {}),
        (f"{license_path}/revoke", {"reason": "done"}),
    ):
        answer = admin("POST", path, body)
        assert answer.status in (200, 201), (path, answer.text)


def test_every_committed_change_reaches_the_bus_with_its_documented_fields(
    publisher: Outbox, admin: Admin, product: str
) -> None:
    lifecycle(admin, product, "one")
    publisher.drain()
    by_type = publisher.by_type()
    expected = {
        "license.issued", "license.suspended", "license.reinstated", "license.renewed",
        "license.regenerated", "license.revoked", "activation.created",
        "activation.deactivated", "seat.limit_reached", "quota.exceeded",
        "identity.created", "identity.deactivated", "identity.reactivated", "tenant.created",
    }  # fmt: skip
    assert expected <= set(by_type), expected - set(by_type)
    documented = documented_fields()
    for detail_type, details in by_type.items():
        for detail in details:
            missing = documented[detail_type] - set(detail)
            assert not missing, (detail_type, missing, detail)
            assert not any("token" in name.lower() for name in detail), detail
    (created,) = by_type["activation.created"]
    assert (created["seatsUsed"], created["maxUsers"], created["machineId"]) == (1, 1, "m1")
    (freed,) = by_type["activation.deactivated"]
    assert freed["seatsUsed"] == 0 and freed["actor"] == "application"
    assert {e["detail"]["eventId"] for e in publisher.received} == set(committed_events())
    assert len(publisher.received) == len(committed_events())  # no fault: no duplicate


def test_no_request_function_publishes(
    admin: Admin, product: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests commit and return; with no bus client at all, they all still work."""

    def no_events_client(service: str, *args: Any, **kwargs: Any) -> Any:
        assert service != "events", "a request function called EventBridge"
        return real(service, *args, **kwargs)

    real = aws.client
    monkeypatch.setenv(events.BUS_ENV, "never-used")
    monkeypatch.setattr(aws, "client", no_events_client)
    lifecycle(admin, product, "quiet")


MIN_FAULTS = 200
MAX_ROUNDS = 100


class FlakyBus:
    """EventBridge whose PutEvents is throttled, fails single entries or crashes the
    consumer mid-batch, by a seeded script; it counts every fault it injects."""

    def __init__(self, real: Any, rng: random.Random) -> None:
        self.real, self.rng = real, rng
        self.faults: Counter[str] = Counter()

    def put_events(self, Entries: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
        roll = self.rng.random()
        if roll < 0.2:
            self.faults["throttled"] += 1
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "PutEvents")
        if roll < 0.35:
            self.faults["crash mid-batch"] += 1
            self.real.put_events(Entries=Entries[: len(Entries) // 2])  # some went out
            raise RuntimeError("the function died mid-batch")
        if roll < 0.6 and len(Entries) > 1:
            victim = self.rng.randrange(len(Entries))
            self.faults["one entry failed"] += 1
            accepted = self.real.put_events(Entries=Entries[:victim] + Entries[victim + 1 :])
            results = list(accepted["Entries"])
            results.insert(victim, {"ErrorCode": "InternalFailure", "ErrorMessage": "injected"})
            return {"FailedEntryCount": 1, "Entries": results}
        return dict(self.real.put_events(Entries=Entries))


def test_no_event_is_lost_or_invented_under_injected_faults(
    publisher: Outbox, admin: Admin, product: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At least 200 faults between the commits and the bus: requests killed after their
    commit, transactions rolled back, PutEvents throttled, single entries failed, the
    consumer crashing mid-batch. Every committed event arrives (duplicates counted), no
    event exists for a rolled-back transaction."""
    rng = random.Random(20261205)
    bus = FlakyBus(aws.client("events"), rng)
    real_client = aws.client
    monkeypatch.setattr(
        aws, "client", lambda service, *a, **k: bus if service == "events" else real_client(service)
    )
    publisher.mapping.batch_size = 3
    publisher.mapping.max_retries = 1000  # a fault is never a reason to give up here
    request_faults: Counter[str] = Counter()
    real_transact = store_errors.transact

    def killed_after_commit(write: Callable[[], None], **kwargs: Any) -> None:
        roll = rng.random()
        if roll < 0.05:
            request_faults["rolled back"] += 1
            raise ConcurrentChange("injected: the transaction did not commit")
        real_transact(write, **kwargs)
        if roll < 0.15:
            request_faults["killed after commit"] += 1
            raise RuntimeError("injected: the function died after its commit")

    monkeypatch.setattr(transaction, "transact", killed_after_commit)
    faults = 0
    for round_ in range(MAX_ROUNDS):
        # an injected fault may break a step the rest needs: the next round goes on
        with contextlib.suppress(AssertionError, KeyError, TypeError):
            lifecycle(admin, product, f"fault-{round_}")
        publisher.drain()
        faults = sum(bus.faults.values()) + sum(request_faults.values())
        if faults >= MIN_FAULTS:
            break
    committed = committed_events()
    delivered = Counter(event["detail"]["eventId"] for event in publisher.received)
    lost = set(committed) - set(delivered)
    invented = set(delivered) - set(committed)
    duplicates = sum(count - 1 for count in delivered.values())
    print(  # the figures of the closing note
        f"\n{faults} injected faults ({dict(bus.faults) | dict(request_faults)}); "
        f"{len(committed)} committed events, {len(lost)} lost, {len(invented)} invented, "
        f"{duplicates} duplicates, {len(publisher.dead_letters)} dead letters"
    )
    assert faults >= MIN_FAULTS, (bus.faults, request_faults)
    assert request_faults["killed after commit"] and request_faults["rolled back"]
    assert not lost and not invented and not publisher.dead_letters
