"""OWASP API4 (unrestricted resource consumption) over HTTP: page sizes and cursors,
body, header and URI sizes, and abuse that must not corrupt counters (activation churn,
concurrent usage reports)."""

from __future__ import annotations

import json
import random
import socket
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode, urlsplit

import pytest
from licensing_core.routes import ROUTES, Access, Route

from tests.e2e.client import Reply
from tests.security.examples import Target, query_example
from tests.security.support import (
    Api,
    Json,
    World,
    assert_problem,
    b64url,
    clear_of_window_edge,
)

pytestmark = pytest.mark.e2e

MAX_BODY_BYTES = 64 * 1024  # LICENSING_MAX_BODY_BYTES
GATEWAY_MAX_BODY_BYTES = 1024 * 1024
PAGED_ROUTES = [r for r in ROUTES if r.query is not None and "limit" in r.query.model_fields]
ACTIVATE = "/license-activations/activate"
DEACTIVATE = "/license-activations/deactivate"
HEARTBEAT = "/license-keys/heartbeat"


def _cursor(value: object) -> str:
    return b64url(json.dumps(value))


BAD_LIMITS = ["1000000", "-1", "0", "101", "abc", "1.5", "1e2", "", "0x10", "5,5"]
BAD_CURSORS = {
    "not-base64url": ("@@@", 400, "INVALID_CURSOR"),
    "not-json": (b64url("{"), 400, "INVALID_CURSOR"),
    "json-list": (_cursor(["x"]), 400, "INVALID_CURSOR"),
    "wrong-keys": (_cursor({"admin": {"S": "x"}}), 400, "INVALID_CURSOR"),
    "number-key": (_cursor({"product_id": {"N": "1"}, "customer_id": {"N": "1"}}), 400, None),
    "nested-injection": (_cursor({"product_id": {"S": {"$ne": None}}}), 400, "INVALID_CURSOR"),
}


def _bound(route: Route, name: str, key: str) -> int:
    """The route's query model's bound ``key`` (``maxLength``, ``maximum``) of ``name``."""
    assert route.query is not None
    schema = route.query.model_json_schema(by_alias=True)["properties"][name]
    return max(int(option.get(key, 0)) for option in schema.get("anyOf", [schema]))


@pytest.mark.parametrize("route", PAGED_ROUTES, ids=[r.route_key for r in PAGED_ROUTES])
def test_page_size_and_cursor_are_bounded(route: Route, api: Api, target: Target) -> None:
    given = urlencode(query_example(route, target))
    path = f"{target.path(route)}?{given}&" if given else f"{target.path(route)}?"
    largest = _bound(route, "limit", "maximum")
    control = api.admin("GET", f"{path}limit={largest}")
    assert control.status == 200 and len(control.body["items"]) <= largest, control.body
    with api.dynamo.unchanged():
        for limit in BAD_LIMITS:
            reply = api.admin("GET", f"{path}limit={quote(limit)}")
            assert_problem(reply, 422, "VALIDATION_FAILED")
        reply = api.admin("GET", f"{path}limit=1&limit=1000000")
        assert_problem(reply, 422, "VALIDATION_FAILED")
        longest = _bound(route, "cursor", "maxLength")
        too_long = {"over-the-bound": ("A" * (longest + 1), 422, "VALIDATION_FAILED")}
        for name, (cursor, status, code) in {**BAD_CURSORS, **too_long}.items():
            if route.access is Access.END_USER and status == 400:
                continue  # see test_a_garbage_cursor_is_refused_before_an_identity_exists
            reply = api.admin("GET", f"{path}cursor={quote(cursor)}")
            assert reply.status == status, (name, reply.body)
            assert_problem(reply, status, code or ("INVALID_CURSOR", "VALIDATION_FAILED"))


def test_a_garbage_cursor_is_refused_before_an_identity_exists(api: Api) -> None:
    """The same bad cursor is refused whether or not the caller has licenses yet."""
    reply = api.user("GET", f"/user/licenses?cursor={quote(BAD_CURSORS['not-json'][0])}")
    assert_problem(reply, 400, "INVALID_CURSOR")


# --- Body, header and URI sizes ------------------------------------------------------


def _padded_activation(size: int) -> bytes:
    """A JSON activation request of exactly ``size`` bytes."""
    template = {"keyToken": "", "machineId": "m"}
    room = size - len(json.dumps(template))
    body = json.dumps({**template, "keyToken": "A" * room}).encode()
    assert len(body) == size
    return body


def _post(api: Api, path: str, data: bytes, content_type: str = "application/json") -> Reply:
    return api.anon("POST", path, data=data, headers={"Content-Type": content_type})


def test_a_body_just_over_64_kib_is_413_before_anything_else(api: Api) -> None:
    with api.dynamo.unchanged(("POST", ACTIVATE), ("POST", "/products")):
        at_limit = _post(api, ACTIVATE, _padded_activation(MAX_BODY_BYTES))
        over = _post(api, ACTIVATE, _padded_activation(MAX_BODY_BYTES + 1))
        # counted in bytes, not characters
        wide = _post(api, ACTIVATE, json.dumps({"keyToken": "€" * 21_846}).encode())
        # refused before authentication: an anonymous caller cannot make us parse it
        admin = _post(api, "/products", b"{" + b" " * MAX_BODY_BYTES + b"}")
        # a body that is not UTF-8 reaches the function base64-encoded, and still counts
        binary = _post(api, ACTIVATE, b"\xff" * (MAX_BODY_BYTES + 1), "application/octet-stream")
    assert at_limit.status == 403 and at_limit.body["code"] == "MALFORMED", at_limit.body
    for reply in (over, wide, admin, binary):
        assert_problem(reply, 413, "PAYLOAD_TOO_LARGE")
        assert reply.body["maxBytes"] == MAX_BODY_BYTES


def test_two_mib_are_refused_by_the_gateway(api: Api) -> None:
    with api.dynamo.unchanged(("POST", ACTIVATE)):
        reply = _post(api, ACTIVATE, b"x" * (2 * GATEWAY_MAX_BODY_BYTES))
    assert_problem(reply, 413, "PAYLOAD_TOO_LARGE")
    assert str(GATEWAY_MAX_BODY_BYTES) in reply.body["detail"]
    assert api.anon("GET", "/.well-known/jwks.json").status == 200  # and it still serves


def _raw(api: Api, request: bytes) -> tuple[int, Json]:
    """Send bytes as they are; ``(status, problem)`` of the answer."""
    url = urlsplit(api.server.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=15) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}


def test_oversized_headers_and_uris_are_refused(api: Api) -> None:
    huge_header = b"X-Pad: " + b"a" * 70_000 + b"\r\n"
    many_headers = b"".join(f"X-H{n}: v\r\n".encode() for n in range(150))
    cases = {
        "one-huge-header": (b"GET /products HTTP/1.1\r\nHost: x\r\n" + huge_header, 431),
        "too-many-headers": (b"GET /products HTTP/1.1\r\nHost: x\r\n" + many_headers, 431),
        "huge-uri": (b"GET /products/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n", 414),
    }
    with api.dynamo.unchanged():
        for name, (request, expected) in cases.items():
            status, problem = _raw(api, request + b"Connection: close\r\n\r\n")
            assert status == expected, (name, status, problem)
            assert problem.get("code") in ("HEADERS_TOO_LARGE", "URI_TOO_LONG"), problem


def test_a_huge_bearer_token_is_refused_unparsed(api: Api) -> None:
    token = ".".join("A" * 20_000 for _ in range(3))
    reply = api.anon("GET", "/products", headers={"Authorization": f"Bearer {token}"})
    assert_problem(reply, 401, "INVALID_TOKEN", secrets=[token])


def test_a_long_path_parameter_is_404_not_a_lookup(api: Api) -> None:
    reply = api.admin("GET", "/license-keys/" + "a" * 129)
    assert_problem(reply, 404, "NOT_FOUND")


# --- Abuse that must not corrupt counters ---------------------------------------------


def test_activation_churn_keeps_seats_equal_to_live_activations(api: Api, world: World) -> None:
    """Four threads activate, heartbeat and deactivate five machines on a two-seat license
    in random order (the same machine racing itself included): at every quiet moment the
    license's seat counter equals its live activations and never exceeds two."""
    license = world.license("two")
    machines = [f"churn-{n}" for n in range(5)]
    statuses: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        held: list[str] = []
        for _ in range(12):
            action = rng.choice(["activate", "activate", "heartbeat", "deactivate"])
            if action == "activate":
                reply = api.anon(
                    "POST",
                    ACTIVATE,
                    {"keyToken": license.key_token, "machineId": rng.choice(machines)},
                )
                if reply.status in (200, 201):
                    held.append(reply.body["clientId"])
            elif held:
                client_id = rng.choice(held)
                reply = api.anon(
                    "POST",
                    HEARTBEAT if action == "heartbeat" else DEACTIVATE,
                    {"clientId": client_id},
                )
                if action == "deactivate":
                    held.remove(client_id)
            else:
                continue
            with lock:
                statuses[(action, reply.status)] += 1
            assert reply.status < 500, reply.body

    for _ in range(2):
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(worker, [random.randrange(1 << 30) for _ in range(4)]))
        listed = api.ok("GET", f"/license-keys/{license.license_id}/activations")
        live = api.dynamo.live_activations(license.license_id)
        assert listed["activeSeats"] == len(listed["items"]) == live <= 2, (listed, statuses)
        assert api.dynamo.active_seats(license.license_id) == live
        assert api.dynamo.machine_claims(license.license_id) == live
    assert {status for (_, status) in statuses} <= {200, 201, 404, 409, 410}, statuses
    assert statuses[("activate", 201)] > 0 and statuses[("activate", 409)] > 0, statuses
    # whoever holds them, freeing every seat brings the counter back to zero
    for item in listed["items"]:
        api.ok(
            "POST",
            f"/license-keys/{license.license_id}/activations/{item['activationId']}/deactivate",
        )
    assert api.dynamo.active_seats(license.license_id) == 0
    assert api.dynamo.live_activations(license.license_id) == 0


def test_concurrent_usage_reports_never_exceed_the_quota(api: Api, world: World) -> None:
    """Twelve reports of 3 calls race for a quota of 10: at most three succeed, the counter
    says exactly what was accepted, and replaying an accepted report counts nothing."""
    license = world.license("five")
    client_id = world.activate(license)["clientId"]
    barrier = threading.Barrier(12)

    def report(n: int) -> Reply:
        barrier.wait()
        return api.anon(
            "POST",
            "/usage",
            {"clientId": client_id, "meter": "api_calls", "quantity": 3, "idempotencyKey": f"r{n}"},
        )

    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(report, range(12)))
    accepted = [r for r in replies if r.status == 200]
    assert {r.status for r in replies} <= {200, 429}, [r.body for r in replies]
    assert len(accepted) == 3
    for reply in replies:
        if reply.status == 429:
            assert_problem(reply, 429, "QUOTA_EXCEEDED")
    usage = api.ok("GET", f"/customers/{license.customer_id}/usage")["items"]
    assert [(u["meter"], u["used"], u["limit"]) for u in usage] == [("api_calls", 9, 10)]
    replayed_key = next(
        f"r{n}" for n, r in enumerate(replies) if r.status == 200 and not r.body["replayed"]
    )
    again = api.anon(
        "POST",
        "/usage",
        {
            "clientId": client_id,
            "meter": "api_calls",
            "quantity": 3,
            "idempotencyKey": replayed_key,
        },
    )
    assert again.status == 200 and again.body["replayed"] is True, again.body
    assert api.ok("GET", f"/customers/{license.customer_id}/usage")["items"][0]["used"] == 9
    with api.dynamo.unchanged(("POST", "/usage")):
        for quantity in (0, -3, 1_000_001, "3", 2.5):
            reply = api.anon(
                "POST",
                "/usage",
                {
                    "clientId": client_id,
                    "meter": "api_calls",
                    "quantity": quantity,
                    "idempotencyKey": uuid.uuid4().hex,
                },
            )
            assert_problem(reply, 422, "VALIDATION_FAILED")


def test_a_usage_counter_does_not_grow_with_each_report(api: Api, world: World) -> None:
    """Reporting usage must be sustainable: the counter item stays the same size however
    many reports it has counted (idempotency keys belong in their own expiring items)."""
    license = world.license("two")
    client_id = world.activate(license)["clientId"]
    key = {"counter_key": {"S": f"{license.license_id}#api_calls"}}
    sizes = []
    for n in range(12):
        reply = api.anon(
            "POST",
            "/usage",
            {"clientId": client_id, "meter": "api_calls", "quantity": 1, "idempotencyKey": f"g{n}"},
        )
        assert reply.status == 200, reply.body
        [item] = [
            i for i in api.dynamo.items("licensing-usage") if i["counter_key"] == key["counter_key"]
        ]
        sizes.append(len(json.dumps(item)))
    assert sizes[-1] - sizes[0] <= 8, (
        f"the counter grew by {sizes[-1] - sizes[0]} bytes in 11 reports"
    )


SPOOFED_ORIGIN_HEADERS = ("X-Forwarded-For", "X-Real-IP", "True-Client-IP", "CF-Connecting-IP")


def test_registration_rate_limits_cannot_be_dodged(api: Api) -> None:
    """Per email (3 an hour, whatever its case) and per source IP (20 an hour, whatever
    forwarding headers claim): the source IP is the one API Gateway saw."""
    clear_of_window_edge()
    body = {"productCode": "Rdn.Identity", "tierCode": "free"}
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    same = [api.anon("POST", "/register", {**body, "email": email}) for _ in range(3)]
    assert [r.status for r in same] == [202, 202, 202], [r.body for r in same]
    again = api.anon("POST", "/register", {**body, "email": email.upper()})
    assert_problem(again, 429)
    assert int(again.headers["retry-after"]) > 0
    statuses = []
    for n in range(21):
        spoofed = {name: f"203.0.113.{n}" for name in SPOOFED_ORIGIN_HEADERS}
        spoofed["Forwarded"] = f"for=203.0.113.{n}"
        reply = api.anon(
            "POST",
            "/register",
            {**body, "email": f"{uuid.uuid4().hex[:10]}@example.com"},
            headers=spoofed,
        )
        statuses.append(reply.status)
    assert set(statuses) <= {202, 429}, statuses
    assert 429 in statuses and statuses.count(202) <= 20 - 3, statuses
    first = statuses.index(429)
    assert statuses[first:] == [429] * (len(statuses) - first), statuses
