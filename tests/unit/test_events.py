"""Lifecycle events: put on the bus, read back through a rule; what EventBridge did not take
is reported for a retry, what can never be sent is logged and dropped."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import boto3
import pytest
from licensing_core import aws
from licensing_core.events import DETAIL_TYPES, DetailType, Event, put, redact
from licensing_core.settings import get_settings
from moto import mock_aws
from pydantic import BaseModel, ConfigDict, Field

EVENTS_DOC = Path(__file__).resolve().parents[2] / "cdk" / "EVENTS.md"
JWS = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsaWMifQ.c2lnbmF0dXJl"
JWE = "eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVydGV4dA.dGFn"


@dataclass
class Bus:
    name: str
    queue_url: str
    sqs: Any

    def received(self, expected: int = 1) -> list[dict[str, Any]]:
        """The events the bus routed to the queue (EventBridge envelopes)."""
        messages: list[dict[str, Any]] = []
        for _ in range(5):
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages += [json.loads(message["Body"]) for message in batch.get("Messages", [])]
            if len(messages) >= expected:
                break
        return messages


def emit(detail_type: str, detail: dict[str, Any], *, source: str = "licensing") -> set[int]:
    return put([Event(detail_type, detail, source)], "licensing-test")


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[Bus]:
    """A custom bus with a rule that copies every ``licensing`` event into an SQS queue."""
    with mock_aws():
        # The settings are read before LICENSING_EVENT_BUS is set: events.py reads the
        # variable itself, and this keeps the test independent of Settings declaring it.
        get_settings()
        client = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        name = "licensing-test"
        client.create_event_bus(Name=name)
        queue_url = sqs.create_queue(QueueName="lifecycle")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        client.put_rule(
            Name="all-licensing",
            EventBusName=name,
            EventPattern=json.dumps({"source": ["licensing"]}),
        )
        client.put_targets(
            Rule="all-licensing", EventBusName=name, Targets=[{"Id": "queue", "Arn": queue_arn}]
        )
        monkeypatch.setenv("LICENSING_EVENT_BUS", name)
        yield Bus(name, queue_url, sqs)


def test_an_emitted_event_reaches_a_rule_on_the_bus(bus: Bus) -> None:
    emit(
        "license.revoked",
        {"licenseId": "lic_1", "tenantId": "ten_1", "reason": "chargeback", "actor": "a@x.io"},
    )
    (event,) = bus.received()
    assert event["source"] == "licensing"
    assert event["detail-type"] == "license.revoked"
    assert event["detail"] == {
        "licenseId": "lic_1",
        "tenantId": "ten_1",
        "reason": "chargeback",
        "actor": "a@x.io",
    }


def test_source_can_be_overridden(bus: Bus) -> None:
    emit(DetailType.CLAIM_EXPIRED, {"claimId": "clm_1"}, source="licensing")
    emit(DetailType.CLAIM_EXPIRED, {"claimId": "clm_2"}, source="acme.licensing")
    (event,) = bus.received()  # the rule only matches source "licensing"
    assert event["detail"] == {"claimId": "clm_1"}


def test_secrets_and_tokens_never_leave_the_process(bus: Bus) -> None:
    emit(
        "activation.created",
        {
            "licenseId": "lic_1",
            "clientId": "cli_secret",
            "client_id": "cli_secret",
            "token": JWS,
            "keyToken": JWS,
            "machine": {"machineId": "m-1", "publicKeyToken": "x", "password": "hunter2"},
            "note": JWE,
            "history": [{"clientSecret": "s"}, JWS, "kept"],
            "Authorization": "Bearer x",
        },
    )
    (event,) = bus.received()
    assert event["detail"] == {
        "licenseId": "lic_1",
        "machine": {"machineId": "m-1"},
        "history": [{}, "kept"],
    }
    assert "cli_secret" not in json.dumps(event)


def test_detail_values_are_plain_json() -> None:
    class Status(Enum):
        ACTIVE = "active"

    class Model(BaseModel):
        model_config = ConfigDict(populate_by_name=True)
        license_id: str = Field(alias="licenseId")
        key_token: str = Field(alias="keyToken")

    detail = redact(
        {
            "at": datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "naive": datetime(2030, 1, 2, 3, 4, 5),
            "day": datetime(2030, 1, 2, tzinfo=UTC).date(),
            "status": Status.ACTIVE,
            "seats": Decimal(3),
            "ratio": Decimal("0.5"),
            "features": {"b", "a"},
            "limits": ("x", 1),
            "license": Model(licenseId="lic_1", keyToken=JWS),
        }
    )
    assert detail == {
        "at": "2030-01-02T01:04:05Z",
        "naive": "2030-01-02T03:04:05Z",
        "day": "2030-01-02",
        "status": "active",
        "seats": 3,
        "ratio": 0.5,
        "features": ["a", "b"],
        "limits": ["x", 1],
        "license": {"licenseId": "lic_1"},
    }


def test_many_events_go_in_batches_of_ten(bus: Bus) -> None:
    failed = put([Event("claim.expired", {"claimId": f"clm_{n}"}) for n in range(23)], bus.name)
    assert failed == set()
    claims = {event["detail"]["claimId"] for event in bus.received(expected=23)}
    assert claims == {f"clm_{n}" for n in range(23)}


def test_events_that_can_never_be_sent_are_logged_and_dropped_not_retried(
    bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="licensing_core.events"):
        failed = put(
            [
                Event("license.exploded", {"licenseId": "lic_1"}),
                Event("license.issued", {"licenseId": object()}),
                Event("license.issued", {"nan": float("nan")}),
                Event("license.issued", {"blob": "x" * 300_000}),
                Event("license.issued", {"licenseId": "lic_ok"}),
            ],
            bus.name,
        )
    assert failed == set()  # retrying them would only block the events behind them
    (event,) = bus.received()
    assert event["detail"] == {"licenseId": "lic_ok"}
    assert "license.exploded" in caplog.text
    assert "not JSON serializable" in caplog.text
    assert "256 KiB" in caplog.text


def test_a_bus_that_cannot_be_reached_fails_every_event_for_a_retry(
    bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="licensing_core.events"):
        failed = put(
            [Event("license.issued", {"licenseId": f"lic_{n}"}) for n in range(12)], "no-such-bus"
        )
    assert failed == set(range(12))
    assert "to retry" in caplog.text
    assert bus.received(expected=0) == []


class ScriptedEvents:
    """An EventBridge client whose PutEvents answers follow a script of per-entry results."""

    def __init__(self, *answers: list[dict[str, str]] | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[list[str]] = []

    def put_events(self, Entries: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
        self.calls.append([json.loads(entry["Detail"])["claimId"] for entry in Entries])
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"Entries": answer}


OK = {"EventId": "e-1"}
FAILED = {"ErrorCode": "InternalFailure", "ErrorMessage": "try later"}


def test_entries_eventbridge_did_not_take_are_reported_by_position(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = ScriptedEvents([OK, FAILED, *[OK] * 8], RuntimeError("throttled"), [OK, OK])
    monkeypatch.setattr(aws, "client", lambda service: client)
    batch = [Event("claim.expired", {"claimId": f"clm_{n}"}) for n in range(23)]
    with caplog.at_level(logging.WARNING, logger="licensing_core.events"):
        failed = put(batch, "bus")
    # the second entry failed, the whole second call raised, the last entry got no result
    assert failed == {1, *range(10, 20), 22}
    assert [len(call) for call in client.calls] == [10, 10, 3]
    assert "claim.expired event to retry: InternalFailure try later" in caplog.text


def test_the_schema_lists_every_documented_type() -> None:
    assert DETAIL_TYPES == (
        "license.issued",
        "license.revoked",
        "license.suspended",
        "license.reinstated",
        "license.renewed",
        "license.regenerated",
        "activation.created",
        "activation.deactivated",
        "activation.reclaimed",
        "seat.limit_reached",
        "quota.exceeded",
        "identity.created",
        "identity.deactivated",
        "identity.reactivated",
        "tenant.created",
        "claim.created",
        "claim.fulfilled",
        "claim.expired",
    )
    documented = set(re.findall(r"^### `([a-z_.]+)`", EVENTS_DOC.read_text(), re.MULTILINE))
    assert documented == set(DETAIL_TYPES)
