"""No write before every input of an activation is proven usable: signing (AWS KMS, in
moto) or encryption to the machine's key fails at each of its calls in turn, on every
path that takes or keeps a seat (a new machine, the same machine again, a dead seat
reclaimed). Each refusal is a 503 or 422 problem, never a 500, and the database is
exactly as before: no seat held, no activation added, the old one intact."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwe
from jwcrypto.common import JWException
from licensing_core.aws import client
from licensing_core.domain.ids import set_clock, utcnow
from licensing_core.settings import reset_settings
from licensing_core.store.models import ALL_MODELS, ActivationRecord, LicenseRecord

from tests.integration.conftest import CognitoPool
from tests.support import Response, invoke, seeded_license, seeded_tier

#: A fault that would not let the loop end: no activation calls a step this often.
MAX_CALLS = 10
#: The default heartbeat ttl: a machine silent for longer holds a dead seat.
TTL = timedelta(seconds=172800)


class Fault:
    """Fails the ``at``-th call of one step while armed, and counts the calls."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.at = 0
        self.calls = 0

    def step(self) -> None:
        if not self.at:
            return
        self.calls += 1
        if self.calls == self.at:
            raise self.error

    @contextmanager
    def armed(self, at: int) -> Iterator[None]:
        self.at, self.calls = at, 0
        try:
            yield
        finally:
            self.at = 0


@dataclass(frozen=True)
class Kind:
    """Where a fault strikes and how the refusal must read."""

    install: Callable[[Fault, pytest.MonkeyPatch], None]
    error: Exception
    status: int
    code: str


def _in_kms_sign(fault: Fault, monkeypatch: pytest.MonkeyPatch) -> None:
    """KMS fails as AWS says it may (retry later), in the signer's own boto3 client."""
    client("kms").meta.events.register("before-call.kms.Sign", lambda **_: fault.step())


def _in_encryption(fault: Fault, monkeypatch: pytest.MonkeyPatch) -> None:
    """jwcrypto fails to wrap the content key to the machine's key."""
    add_recipient = jwe.JWE.add_recipient

    def failing(self: jwe.JWE, *args: Any, **kwargs: Any) -> None:
        fault.step()
        add_recipient(self, *args, **kwargs)

    monkeypatch.setattr(jwe.JWE, "add_recipient", failing)


KINDS = {
    "signing": Kind(
        _in_kms_sign,
        ClientError({"Error": {"Code": "KMSInternalException", "Message": "down"}}, "Sign"),
        503,
        "SERVICE_UNAVAILABLE",
    ),
    "encryption": Kind(_in_encryption, JWException("wrap failed"), 422, "INVALID_PUBLIC_KEY"),
}


@pytest.fixture
def kms(aws: CognitoPool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens are signed by an AWS KMS key (the deployed default), in moto."""
    key = boto3.client("kms", region_name="us-east-1").create_key(
        KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY"
    )
    monkeypatch.setenv("LICENSING_SIGNER", "kms")
    monkeypatch.setenv("LICENSING_KMS_KEY_ID", key["KeyMetadata"]["KeyId"])
    reset_settings()


@dataclass
class Seat:
    """A one-seat license and what activates it."""

    license_id: str
    key_token: str

    def activate(self, machine: str, public_key: str | None = None) -> Response:
        body = {"keyToken": self.key_token, "machineId": machine}
        if public_key is not None:
            body["publicKey"] = public_key
        return invoke("POST", "/license-activations/activate", body=body)

    def seats(self) -> int:
        return int(LicenseRecord.get(self.license_id).active_seats)


@pytest.fixture
def seat(kms: None) -> Seat:
    product_id, tier_id = seeded_tier("Faults", 1)
    return Seat(*seeded_license(product_id, tier_id))


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _everything() -> dict[str, list[str]]:
    """Every item of every table."""
    return {
        model.logical_name: sorted(
            json.dumps(item.attribute_values, default=str, sort_keys=True)
            for item in model.scan(consistent_read=True)
        )
        for model in ALL_MODELS
    }


def _refused_at_each_call(
    kind: Kind,
    monkeypatch: pytest.MonkeyPatch,
    request: Callable[[], Response],
    still_intact: Callable[[], None] = lambda: None,
) -> Response:
    """Fails the first call of the step, then the second... until the request makes
    fewer calls than that: each refusal must write nothing. The answer that got past
    every fault is returned."""
    fault = Fault(kind.error)
    kind.install(fault, monkeypatch)
    for at in range(1, MAX_CALLS):
        before = _everything()
        with fault.armed(at):
            response = request()
            reached = fault.calls >= at
        if not reached:
            assert at > 1, "the request never reached the step that fails"
            return response
        assert (response.status, response.json["code"]) == (kind.status, kind.code), (
            at,
            response.text,
        )
        assert response.headers["content-type"] == "application/problem+json"
        assert _everything() == before, f"call {at} failed after a write"
        still_intact()
    raise AssertionError(f"the step was called {MAX_CALLS} times")


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_new_machine_holds_no_seat_when_its_token_cannot_be_made(
    seat: Seat, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pem = _pem()
    answer = _refused_at_each_call(KINDS[kind], monkeypatch, lambda: seat.activate("m", pem))
    assert answer.status == 201, answer.text
    assert answer.json["tokenType"] == "jwe" and seat.seats() == 1


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("new_key", [True, False], ids=["new-key", "kept-key"])
def test_a_known_machine_keeps_its_activation_when_its_token_cannot_be_made(
    seat: Seat, kind: str, new_key: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = seat.activate("m", _pem())
    assert first.status == 201, first.text
    pem = _pem() if new_key else None

    def old_client_id_works() -> None:  # renews the old activation: checked after the faults
        beat = invoke("POST", "/license-keys/heartbeat", body={"clientId": first.json["clientId"]})
        assert beat.status == 200, beat.text

    answer = _refused_at_each_call(
        KINDS[kind], monkeypatch, lambda: seat.activate("m", pem), old_client_id_works
    )
    assert answer.status == 200, answer.text
    assert answer.json["clientId"] != first.json["clientId"] and seat.seats() == 1
    assert answer.json["tokenType"] == "jwe"


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_dead_seat_stays_with_the_dead_machine_when_the_token_cannot_be_made(
    seat: Seat, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert seat.activate("silent", _pem()).status == 201
    start = utcnow()
    set_clock(lambda: start + TTL + timedelta(seconds=1))
    pem = _pem()
    answer = _refused_at_each_call(KINDS[kind], monkeypatch, lambda: seat.activate("new", pem))
    assert answer.status == 201, answer.text
    statuses = {a.machine_id: a.status for a in ActivationRecord.query(seat.license_id)}
    assert statuses == {"silent": "reclaimed", "new": "active"} and seat.seats() == 1
