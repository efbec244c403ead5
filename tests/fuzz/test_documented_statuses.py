"""Every status an operation answers is in the committed OpenAPI document.

Each test provokes the answers over HTTP (and names those only reachable with a clock
jump, from the code) and checks the document lists them with the right media type. The
gaps found are xfail here and tolerated by the fuzz suite through ``gaps.py``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import licensing_core
import pytest

from tests.e2e.client import Reply
from tests.fuzz.conftest import FuzzTarget
from tests.fuzz.gaps import HTML_PROBLEMS, UNDOCUMENTED_STATUSES

pytestmark = pytest.mark.e2e

DOCUMENT: dict[str, Any] = json.loads(
    Path(licensing_core.__file__).with_name("openapi.json").read_text()
)
BUG = (
    "BUG: the OpenAPI document does not list every status {op} answers "
    "(licensing_core/openapi.py _problem_statuses derives them from the route's access and "
    "models only; a route should also declare the problems its service raises)"
)


def documented(method: str, path: str) -> dict[str, Any]:
    responses: dict[str, Any] = DOCUMENT["paths"][path][method.lower()]["responses"]
    return responses


def assert_documented(method: str, path: str, replies: dict[int, Reply], *by_code: int) -> None:
    """The statuses seen (and those the code raises: ``by_code``) are all documented."""
    for status, reply in replies.items():
        assert reply.status == status, (method, path, status, reply.body)
    missing = sorted({str(s) for s in [*replies, *by_code]} - set(documented(method, path)))
    assert not missing, f"{method} {path} answers {missing}, which are not documented"


def test_the_known_gaps_are_all_still_gaps() -> None:
    """``gaps.py`` lists only what the document really lacks."""
    for (method, path), statuses in UNDOCUMENTED_STATUSES.items():
        assert {str(s) for s in statuses}.isdisjoint(documented(method, path)), (method, path)


def test_activate(fuzz: FuzzTarget) -> None:
    license = fuzz.world.license()
    body = {"keyToken": license.key_token, "machineId": "twice"}
    first = fuzz.api.anon("POST", "/license-activations/activate", body)
    assert first.status == 201
    replies = {
        200: fuzz.api.anon("POST", "/license-activations/activate", body),  # same machine
        403: fuzz.api.anon(
            "POST", "/license-activations/activate", {"keyToken": "x.y.z", "machineId": "m"}
        ),
    }
    assert_documented("POST", "/license-activations/activate", replies)


def test_heartbeat(fuzz: FuzzTarget) -> None:
    license = fuzz.world.license()
    client_id = fuzz.world.activate(license)["clientId"]
    fuzz.api.ok("POST", f"/license-keys/{license.license_id}/revoke", {"reason": "doc"})
    replies = {
        403: fuzz.api.anon("POST", "/license-keys/heartbeat", {"clientId": client_id}),
        404: fuzz.api.anon(
            "POST", "/license-keys/heartbeat", {"clientId": f"{license.license_id}.{'A' * 32}"}
        ),
    }
    # 410 ACTIVATION_DEAD: a machine silent past its token lifetime (services/activations.py)
    assert_documented("POST", "/license-keys/heartbeat", replies, 410)


def test_usage(fuzz: FuzzTarget) -> None:
    license = fuzz.world.license("five")  # a quota of 10 api_calls
    client_id = fuzz.world.activate(license)["clientId"]

    def report(**credential: str) -> Reply:
        body = {"meter": "api_calls", "quantity": 6, "idempotencyKey": uuid.uuid4().hex}
        return fuzz.api.anon("POST", "/usage", {**body, **credential})

    assert report(clientId=client_id).status == 200
    replies = {
        429: report(clientId=client_id),
        403: report(keyToken="x.y.z"),
        404: report(clientId=f"{license.license_id}.{'A' * 32}"),
    }
    # 410 ACTIVATION_DEAD: a reclaimed activation's client id (services/usage.py _holder)
    assert_documented("POST", "/usage", replies, 410)


def test_claim_license(fuzz: FuzzTarget) -> None:
    replies = {404: fuzz.api.user("POST", "/user/claim-license", {})}
    # 410: the pending claim expired (services/registration.py)
    assert_documented("POST", "/user/claim-license", replies, 410)


def test_register_page(fuzz: FuzzTarget) -> None:
    replies = {
        404: fuzz.api.anon("GET", "/register?product=No.Such.Product&tier=free"),
        422: fuzz.api.anon("GET", "/register?product=Rdn.Identity"),
    }
    for reply in replies.values():
        assert reply.headers["content-type"].startswith("text/html")
    assert_documented("GET", "/register", replies)
    for status in ("404", "422"):
        assert "text/html" in documented("GET", "/register")[status]["content"]
    assert ("GET", "/register") in HTML_PROBLEMS


def test_register(fuzz: FuzzTarget) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "productCode": "Rdn.Identity", "tierCode": "free"}
    for _ in range(3):  # LICENSING_REGISTER_LIMIT_PER_EMAIL
        accepted = fuzz.api.anon("POST", "/register", body)
        assert accepted.status == 202, accepted.body
    replies = {429: fuzz.api.anon("POST", "/register", body)}
    assert_documented("POST", "/register", replies)
