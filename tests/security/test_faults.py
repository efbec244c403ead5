"""Faults a client can cause over HTTP (the storage faults are injected in process by
``tests/integration/test_seat_races.py``): answers lost on the way back, truncated
bodies, and a revocation racing heartbeats."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from tests.e2e.client import Reply
from tests.security.support import Api, World, assert_problem

pytestmark = pytest.mark.e2e

ACTIVATE = "/license-activations/activate"


def _fire_and_forget(api: Api, path: str, body: object) -> None:
    """Send a complete request and hang up without reading the answer."""
    url = urlsplit(api.server.base_url)
    data = json.dumps(body).encode()
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data
        )


def _eventually(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the server never processed the request"
        time.sleep(0.05)


def test_a_lost_activation_answer_retried_takes_one_seat(api: Api, world: World) -> None:
    license = world.license("two")
    body = {"keyToken": license.key_token, "machineId": "lossy-link"}
    _fire_and_forget(api, ACTIVATE, body)
    _eventually(lambda: api.dynamo.active_seats(license.license_id) == 1)
    retried = api.anon("POST", ACTIVATE, body)
    assert retried.status == 200, retried.body  # the same machine: its seat, a new clientId
    assert api.dynamo.active_seats(license.license_id) == 1
    assert api.dynamo.live_activations(license.license_id) == 1
    beat = api.anon("POST", "/license-keys/heartbeat", {"clientId": retried.body["clientId"]})
    assert beat.status == 200, beat.body


def test_a_lost_usage_answer_retried_counts_once(api: Api, world: World) -> None:
    license = world.license("five")
    client_id = world.activate(license)["clientId"]
    body = {"clientId": client_id, "meter": "api_calls", "quantity": 4, "idempotencyKey": "lost-1"}

    def used() -> int:
        items = api.ok("GET", f"/customers/{license.customer_id}/usage")["items"]
        return int(items[0]["used"]) if items else 0

    _fire_and_forget(api, "/usage", body)
    _eventually(lambda: used() == 4)
    retried = api.anon("POST", "/usage", body)
    assert retried.status == 200 and retried.body["replayed"] is True, retried.body
    assert retried.body["used"] == 4 and used() == 4


def test_a_truncated_body_writes_nothing(api: Api, world: World) -> None:
    license = world.license()
    data = json.dumps({"keyToken": license.key_token, "machineId": "truncated"}).encode()
    url = urlsplit(api.server.base_url)
    with api.dynamo.unchanged(("POST", ACTIVATE)):
        with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
            sock.sendall(
                f"POST {ACTIVATE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n".encode()
                + data[: len(data) // 2]
            )
            sock.shutdown(socket.SHUT_WR)
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        time.sleep(0.2)


def test_a_revocation_wins_against_racing_heartbeats(api: Api, world: World) -> None:
    """Heartbeats race a revocation: once the revocation has answered, no heartbeat gets a
    token, and none ever fails with a 5xx."""
    license = world.license("five")
    clients = [world.activate(license, f"racer-{n}")["clientId"] for n in range(4)]
    revoked_at: list[float] = []
    stop = threading.Event()

    def hammer(client_id: str) -> list[tuple[float, Reply]]:
        seen = []
        while not stop.is_set():
            started = time.monotonic()
            reply = api.anon("POST", "/license-keys/heartbeat", {"clientId": client_id})
            seen.append((started, reply))
        return seen

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(hammer, client_id) for client_id in clients]
        time.sleep(0.3)
        api.ok("POST", f"/license-keys/{license.license_id}/revoke", {"reason": uuid.uuid4().hex})
        revoked_at.append(time.monotonic())
        time.sleep(0.3)
        stop.set()
        results = [item for future in futures for item in future.result()]
    assert all(reply.status in (200, 403) for _, reply in results), {r.status for _, r in results}
    after = [reply for started, reply in results if started > revoked_at[0]]
    assert after, "no heartbeat was sent after the revocation"
    for reply in after:
        assert_problem(reply, 403, "REVOKED")
    assert any(reply.status == 200 for _, reply in results), "no heartbeat raced at all"
