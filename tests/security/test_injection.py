"""Injection into stored strings, over HTTP: every payload round-trips as inert data in
JSON, appears HTML-escaped in the HTML pages (the self-service registration page renders
stored names; ``/docs`` is static), both served under a strict CSP, and the server's log
never carries a payload."""

from __future__ import annotations

import html
import socket
import uuid
from urllib.parse import urlencode, urlsplit

import pytest

from tests.e2e.client import Reply
from tests.security.conftest import Trap
from tests.security.support import Api, Json, World

pytestmark = pytest.mark.e2e

PAYLOADS = {
    "html": "<script>alert(document.domain)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "sql": "Robert'); DROP TABLE licenses; --",
    "nosql": '{"$ne": null}',
    "template": "{{7*7}} ${7*7} #{7*7} <%= 7*7 %>",
    "log4shell": "${jndi:ldap://127.0.0.1:1/a}",
    "nul": "before\u0000after",
    "bidi": "admin\u202egpj.exe",
    "ansi": "\u001b[31mred\u001b[0m",
    "crlf": "line\r\nX-Injected: yes",
    "unicode": "\U0001d518\U0001f600\u0301\ufeffz",
}
LONG_NAME = "\U0001f600" * 200  # the longest Name: 200 characters, 800 UTF-8 bytes
LONG_TEXT = "\U0001d518" * 2000  # the longest Description


def _expect_same(got: object, sent: object, where: str) -> None:
    assert got == sent, f"{where}: stored {sent!r}, read back {got!r}"


@pytest.fixture(scope="module")
def stored(api: Api, world: World, trap: Trap) -> dict[str, str]:
    """Write every payload into every stored string; return ``payload -> where`` checks."""
    payloads = {**PAYLOADS, "trap": f"${{jndi:ldap://{urlsplit(trap.url).netloc}/a}}"}
    for name, payload in payloads.items():
        product = api.ok(
            "POST",
            "/products",
            {"code": f"Inj.{name}.{uuid.uuid4().hex[:6]}", "name": payload, "description": payload},
        )
        pid = product["productId"]
        _expect_same(api.ok("GET", f"/products/{pid}")["name"], payload, "product name")
        feature = api.ok(
            "POST",
            f"/products/{pid}/features",
            {"key": "f", "name": payload, "description": payload},
        )
        _expect_same(feature["name"], payload, "feature name")
        tier = api.ok(
            "POST",
            f"/products/{pid}/tiers",
            {
                "code": "t",
                "name": payload,
                "description": payload,
                "monthlyPrice": 0,
                "annualPrice": 0,
                "currency": "EUR",
                "billingPeriods": ["monthly"],
                "maxUsers": 1,
                "features": ["f"],
            },
        )
        _expect_same(
            api.ok("GET", f"/products/{pid}/tiers/{tier['tierId']}")["description"],
            payload,
            "tier description",
        )
        pricing = api.anon("GET", f"/products/{pid}/pricing")
        assert pricing.headers["content-type"] == "application/json"
        assert pricing.headers["x-content-type-options"] == "nosniff"
        _expect_same(pricing.body["tiers"][0]["name"], payload, "public pricing")
        tenant = api.ok("POST", "/tenants", {"name": payload})
        _expect_same(api.ok("GET", f"/tenants/{tenant['tenantId']}")["name"], payload, "tenant")
        customer = world.customer(payload, metadata={"note": payload}, subject=payload)
        read = api.ok("GET", f"/customers/{customer}")
        _expect_same(read["name"], payload, "customer name")
        _expect_same(read["metadata"], {"note": payload}, "customer metadata")
        _expect_same(read["subject"], payload, "customer subject")
        license = world.license(customer_id=customer)
        revoked = api.ok("POST", f"/license-keys/{license.license_id}/revoke", {"reason": payload})
        _expect_same(revoked["statusNote"]["reason"], payload, "revocation reason")
        history = api.ok("GET", f"/license-keys/{license.license_id}/history")["items"]
        _expect_same(history[0]["reason"], payload, "audit reason")
    return payloads


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_round_trips_as_inert_json(name: str, stored: dict[str, str], api: Api) -> None:
    """Read back through a listing too: the JSON is escaped, never evaluated or truncated."""
    payload = stored[name]
    items = api.ok("GET", "/products?limit=100")["items"]
    found = [p for p in items if p["code"].startswith(f"Inj.{name}.")]
    assert found and found[0]["name"] == payload == found[0]["description"]
    assert "49" not in found[0]["name"], "a template was evaluated"


def test_machine_ids_and_user_agents_are_stored_as_data(api: Api, world: World) -> None:
    """What a machine sends about itself (machine id, User-Agent) is shown to admins."""
    license = world.license()
    machine = "<script>alert(1)</script>'--{{7*7}}"
    agent = PAYLOADS["html"] + PAYLOADS["sql"]
    reply = api.anon(
        "POST",
        "/license-activations/activate",
        {"keyToken": license.key_token, "machineId": machine},
        headers={"User-Agent": agent},
    )
    assert reply.status == 201, reply.body
    listed = api.ok("GET", f"/license-keys/{license.license_id}/activations")["items"]
    assert (listed[0]["machineId"], listed[0]["userAgent"]) == (machine, agent)
    history = api.ok("GET", f"/license-keys/{license.license_id}/history")["items"]
    assert history[0]["details"]["machineId"] == machine


@pytest.mark.parametrize("field", ["name", "description"])
def test_the_longest_strings_round_trip_and_one_more_is_422(api: Api, field: str) -> None:
    limit = LONG_NAME if field == "name" else LONG_TEXT
    body: Json = {"code": f"Inj.long.{uuid.uuid4().hex[:6]}", "name": "long"}
    product = api.ok("POST", "/products", {**body, field: limit})
    assert product[field] == limit
    with api.dynamo.unchanged(("POST", "/products")):
        reply = api.admin(
            "POST",
            "/products",
            {**body, "code": f"Inj.long.{uuid.uuid4().hex[:6]}", field: limit + "x"},
        )
    assert reply.status == 422 and reply.body["errors"][0]["path"] == f"body.{field}", reply.body


@pytest.mark.parametrize("invisible", ["\u0000", "\u200b", "\u202e", "\u0007"])
def test_emails_with_invisible_characters_are_refused(
    api: Api, world: World, invisible: str
) -> None:
    """Invisible twins of an address would pass the per-tenant EMAIL# uniqueness guard and
    the per-email registration limit."""
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    world.customer(email=email)
    with api.dynamo.unchanged(("POST", "/customers")):
        twin = api.admin("POST", "/customers", {"email": email + invisible, "name": "Twin"})
        inside = api.admin(
            "POST", "/customers", {"email": email.replace("@", invisible + "@"), "name": "Twin"}
        )
    assert twin.status == 422 and inside.status == 422, (twin.body, inside.body)


def test_docs_is_static_under_a_strict_csp(api: Api, stored: dict[str, str]) -> None:
    reply = api.anon("GET", "/docs")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    csp = {
        directive.split()[0]: directive.split()[1:]
        for directive in reply.headers["content-security-policy"].split(";")
        if directive.strip()
    }
    assert csp["default-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'none'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    sources = {source for values in csp.values() for source in values}
    assert sources <= {"'self'", "'none'", "data:"}, sources  # no other origin, ever
    assert reply.headers["x-content-type-options"] == "nosniff"
    for payload in stored.values():
        assert payload not in reply.body
    # the discovery documents are JSON, never HTML
    html = [
        path
        for path in (
            "/openapi.json",
            "/.well-known/jwks.json",
            "/.well-known/license-configuration",
        )
        if "html" in api.anon("GET", path).headers["content-type"]
    ]
    assert not html


def test_no_payload_reaches_the_log_nor_any_url(
    api: Api, stored: dict[str, str], trap: Trap
) -> None:
    output = api.server.output()
    for name, payload in stored.items():
        assert payload not in output, f"the {name} payload reached the server log"
    for marker in ("<script>", "DROP TABLE", "{{7*7}}", "\u202e", "${jndi:"):
        assert marker not in output, marker
    assert not trap.hits, trap.hits


def _raw_get(api: Api, target: bytes) -> bytes:
    url = urlsplit(api.server.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_control_characters_in_the_request_line_never_reach_the_log(api: Api) -> None:
    before = len(api.server.output())
    answer = _raw_get(api, b"/\x1b[2J\x1b[31mFAKE-LOG-LINE\x1b[0m")
    assert answer.startswith(b"HTTP/1.1 404")
    _raw_get(api, b"/products/\x1b]0;pwned\x07")
    logged = api.server.output()[before:]
    assert "\x1b" not in logged and "\x07" not in logged, logged


# --- HTML pages: the self-service registration page ---------------------------------

HTML_PAYLOADS = {name: p for name, p in PAYLOADS.items() if html.escape(p) != p}


def _assert_escaped(page: str, payload: str, where: str) -> None:
    assert payload not in page, f"{where}: the raw payload is in the HTML"
    assert html.escape(payload, quote=True) in page, f"{where}: the payload is not shown escaped"


def _assert_page_headers(reply: Reply) -> None:
    assert reply.headers["content-type"].startswith("text/html"), reply.headers
    csp = reply.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, csp
    assert reply.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("name", sorted(HTML_PAYLOADS))
def test_the_registration_page_escapes_stored_strings(api: Api, name: str) -> None:
    payload = HTML_PAYLOADS[name]
    code = f"Reg.{name}.{uuid.uuid4().hex[:6]}"
    pid = api.ok("POST", "/products", {"code": code, "name": payload, "description": payload})[
        "productId"
    ]
    api.ok("POST", f"/products/{pid}/features", {"key": "f", "name": payload})
    tier: Json = {
        "name": payload,
        "description": payload,
        "monthlyPrice": 0,
        "annualPrice": 0,
        "currency": "EUR",
        "billingPeriods": ["monthly"],
        "maxUsers": 1,
        "features": ["f"],
    }
    api.ok("POST", f"/products/{pid}/tiers", {**tier, "code": "open", "selfService": True})
    api.ok("POST", f"/products/{pid}/tiers", {**tier, "code": "sales", "selfService": False})
    page = api.anon("GET", f"/register?product={code}&tier=open")
    assert page.status == 200, page.body
    _assert_page_headers(page)
    _assert_escaped(page.body, payload, "the offer")
    # an error page quoting the stored tier name in its message
    refused = api.anon("GET", f"/register?product={code}&tier=sales")
    assert refused.status == 422, refused.body
    _assert_page_headers(refused)
    _assert_escaped(refused.body, payload, "the error message")


def test_a_form_post_reflects_its_fields_escaped(api: Api, world: World) -> None:
    payload = '"><script>alert(1)</script>'
    form = urlencode(
        {
            "email": f"x{payload}@example.com",
            "emailConfirmation": f"y{payload}@example.com",
            "productCode": world.product_code,
            "tierCode": f"five{payload}",
        }
    ).encode()
    with api.dynamo.unchanged(("POST", "/register")):
        reply = api.anon(
            "POST",
            "/register",
            data=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
            },
        )
    assert reply.status == 422, reply.body
    _assert_page_headers(reply)
    assert payload not in reply.body and "<script>alert" not in reply.body
