"""The client SDK (``licensing_client``) against the real local server over HTTP."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from licensing_client import (
    ActivationRefused,
    FeatureNotLicensed,
    HeartbeatRefused,
    InvalidToken,
    License,
    LicenseRevoked,
    LicensingClient,
    LicensingError,
    NetworkError,
    QuotaExceeded,
    StepUpRequired,
)
from licensing_client.http import Response, UrllibTransport

from local.aws import with_mfa
from tests.e2e.client import LocalServer

pytestmark = pytest.mark.e2e

PRODUCT = "Rdn.Identity"


@pytest.fixture(scope="module")
def catalog(local_server: LocalServer) -> dict[str, str]:
    """The seeded product's id and its tier ids by code."""
    reply = local_server.request("GET", "/products?limit=100", token=local_server.admin_token)
    assert reply.status == 200, reply
    product = next(p for p in reply.body["items"] if p["code"] == PRODUCT)
    reply = local_server.request(
        "GET", f"/products/{product['productId']}/tiers", token=local_server.admin_token
    )
    assert reply.status == 200, reply
    return {
        "product": product["productId"],
        **{t["code"]: t["tierId"] for t in reply.body["items"]},
    }


def issue_key(server: LocalServer, catalog: dict[str, str], tier: str) -> dict[str, Any]:
    """A new customer and a perpetual key of ``tier``: ``{licenseId, keyToken, expiresAt}``."""
    suffix = uuid.uuid4().hex[:10]
    reply = server.request(
        "POST",
        "/customers",
        token=server.admin_token,
        json_body={"email": f"sdk-{suffix}@example.com", "name": f"SDK {suffix}"},
    )
    assert reply.status == 201, reply
    reply = server.request(
        "POST",
        "/license-keys",
        token=server.admin_token,
        json_body={
            "productId": catalog["product"],
            "tierId": catalog[tier],
            "customerId": reply.body["customerId"],
            "perpetual": True,
        },
    )
    assert reply.status == 201, reply
    key: dict[str, Any] = reply.body
    return key


def revoke(server: LocalServer, license_id: str) -> None:
    """Revocation demands a recent MFA sign-in (step-up)."""
    reply = server.request(
        "POST",
        f"/license-keys/{license_id}/revoke",
        token=with_mfa(server.admin_token),
        json_body={"reason": "e2e: the SDK must notice"},
    )
    assert reply.status == 200, reply


@pytest.fixture
def close_network(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it, and every socket this process tries to open fails (the app is offline)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("network is closed in this test")

    def close() -> None:
        monkeypatch.setattr(socket, "socket", refuse)
        monkeypatch.setattr(socket, "create_connection", refuse)
        with pytest.raises(OSError, match="network is closed"):
            socket.create_connection(("127.0.0.1", 80))

    return close


def online_client(server: LocalServer, data_dir: Path, **options: Any) -> LicensingClient:
    return LicensingClient(server.base_url, product=PRODUCT, data_dir=data_dir, **options)


def test_discovery_and_offline_verification_of_a_real_key(
    local_server: LocalServer, catalog: dict[str, str], tmp_path: Path
) -> None:
    key = issue_key(local_server, catalog, "enterprise")
    client = online_client(local_server, tmp_path)
    held = client.verify_license_key(key["keyToken"])
    assert held.license_id == key["licenseId"]
    assert client.issuer == local_server.base_url
    assert held.product == PRODUCT and held.tier == "enterprise"
    assert all(held.has(f) for f in ("sso", "passkeys", "multi_tenant", "audit_log", "data_export"))
    assert not held.has("priority_support")  # display-only features never reach a token
    assert held.limit("maxUsers") and held.limit("api_calls")
    held.require("audit_log")
    with pytest.raises(StepUpRequired) as caught:
        held.require("data_export", id_token_claims={"acr": "pwd", "auth_time": 0})
    assert caught.value.www_authenticate.endswith('acr_values="mfa", max_age=300')
    assert client.discovery.fetches == 2  # configuration + JWKS, then cached
    client.verify_license_key(key["keyToken"])
    assert client.discovery.fetches == 2


def test_a_free_key_gates_free_features_only(
    local_server: LocalServer, catalog: dict[str, str], tmp_path: Path
) -> None:
    held = online_client(local_server, tmp_path).verify_license_key(
        issue_key(local_server, catalog, "free")["keyToken"]
    )
    assert held.has("sso")
    assert not held.has("passkeys")
    with pytest.raises(FeatureNotLicensed):
        held.require("data_export")


def test_offline_with_the_network_closed_an_embedded_jwks_verifies_and_gates(
    local_server: LocalServer,
    catalog: dict[str, str],
    tmp_path: Path,
    close_network: Callable[[], None],
) -> None:
    """The build step embeds the JWKS and issuer; at run time there is no network."""
    key = issue_key(local_server, catalog, "enterprise")["keyToken"]
    builder = online_client(local_server, tmp_path / "build")
    builder.discovery.refresh_keys()
    embedded_jwks, issuer = builder.jwks(), builder.issuer
    close_network()

    app = LicensingClient.offline(jwks=embedded_jwks, issuer=issuer, product=PRODUCT)
    held = app.verify_license_key(key)
    assert held.has("sso") and held.has("data_export")
    held.require("data_export", id_token_claims={"acr": "mfa", "auth_time": held.issued_at})
    with pytest.raises(InvalidToken) as caught:
        app.verify_license_key(key[:-8] + "AAAAAAAA")
    assert caught.value.code == "SIGNATURE_INVALID"
    other_product = LicensingClient.offline(jwks=embedded_jwks, issuer=issuer, product="Other")
    with pytest.raises(InvalidToken) as caught:
        other_product.verify_license_key(key)
    assert caught.value.code == "WRONG_AUDIENCE"


def test_a_key_the_server_revoked_still_verifies_offline_but_not_at_activation(
    local_server: LocalServer, catalog: dict[str, str], tmp_path: Path
) -> None:
    key = issue_key(local_server, catalog, "pro")
    revoke(local_server, key["licenseId"])
    client = online_client(local_server, tmp_path)
    assert client.verify_license_key(key["keyToken"]).has("passkeys")  # offline: signature only
    with pytest.raises(ActivationRefused) as caught:
        client.activate(key["keyToken"], machine_id="e2e-revoked")
    assert caught.value.code == "REVOKED"
    assert client.license is None


def test_activate_heartbeat_then_revocation_reaches_the_app(
    local_server: LocalServer, catalog: dict[str, str], tmp_path: Path
) -> None:
    key = issue_key(local_server, catalog, "enterprise")
    client = online_client(local_server, tmp_path)
    held = client.activate(key["keyToken"], machine_id=f"e2e-{uuid.uuid4().hex}")
    assert held.is_machine_token and held.license_id == key["licenseId"]
    assert client.activation is not None and client.activation.token_type == "jwe"
    assert client.has("sso") and client.has("data_export")
    assert not client.has("priority_support")
    assert held.expires_at - held.claims["iat"] == 172_800  # the tier's ttlSeconds

    renewed_directly = client.heartbeat()
    assert renewed_directly.has("sso")

    renewed = threading.Event()
    revoked = threading.Event()
    refusals: list[LicensingError] = []
    licenses: list[License] = []
    with client.start_heartbeats(
        on_renewed=lambda lic: (licenses.append(lic), renewed.set()),
        on_revoked=lambda error: (refusals.append(error), revoked.set()),
        on_expired=lambda error: (refusals.append(error), revoked.set()),
    ) as loop:
        loop.renew_now()
        assert renewed.wait(30), "no renewal"
        assert client.has("sso")
        revoke(local_server, key["licenseId"])
        assert client.has("sso")  # offline until the next renewal...
        loop.renew_now()
        assert revoked.wait(30), "the revocation did not reach the app"
    assert [type(e) for e in refusals] == [HeartbeatRefused]
    assert refusals[0].code == "REVOKED"
    assert not client.has("sso")  # ...and not a moment after
    with pytest.raises(LicenseRevoked) as revocation:
        client.require("sso")
    assert revocation.value.code == "REVOKED"
    assert not held.has("sso") and not licenses[0].has("sso")
    assert client.license is None and client.activation is None
    assert client.resume() is None  # nothing stored to resume offline


def test_a_restart_resumes_offline(
    local_server: LocalServer,
    catalog: dict[str, str],
    tmp_path: Path,
    close_network: Callable[[], None],
) -> None:
    key = issue_key(local_server, catalog, "pro")
    online_client(local_server, tmp_path).activate(key["keyToken"], machine_id="e2e-restart")
    close_network()
    restarted = online_client(local_server, tmp_path)
    held = restarted.resume()
    assert held is not None and restarted.has("passkeys")
    assert held.license_id == key["licenseId"]


def test_deactivation_frees_the_seat(
    local_server: LocalServer, catalog: dict[str, str], tmp_path: Path
) -> None:
    key = issue_key(local_server, catalog, "free")
    client = online_client(local_server, tmp_path)
    client.activate(key["keyToken"], machine_id="e2e-deactivate")
    record = client.activation
    assert record is not None
    client.deactivate()
    assert not client.has("sso")
    reply = local_server.request(
        "POST", "/license-keys/heartbeat", json_body={"clientId": record.client_id}
    )
    assert 400 <= reply.status < 500 and reply.body["code"] in (
        "UNKNOWN_CLIENT",
        "ACTIVATION_DEAD",
    ), reply


@pytest.fixture(scope="module")
def metered(local_server: LocalServer) -> dict[str, str]:
    """A product of its own (not the demo one) whose tier meters 5 exports a day:
    ``{code, product, metered}``."""
    code = f"E2E.Metered{uuid.uuid4().hex[:8]}"
    admin = local_server.admin_token
    reply = local_server.request(
        "POST", "/products", token=admin, json_body={"code": code, "name": "Metered"}
    )
    assert reply.status == 201, reply
    product = reply.body["productId"]
    reply = local_server.request(
        "POST",
        f"/products/{product}/features",
        token=admin,
        json_body={"key": "reports", "name": "Reports"},
    )
    assert reply.status == 201, reply
    reply = local_server.request(
        "POST",
        f"/products/{product}/tiers",
        token=admin,
        json_body={
            "code": "metered",
            "name": "Metered",
            "monthlyPrice": 0,
            "annualPrice": 0,
            "currency": "EUR",
            "billingPeriods": ["monthly"],
            "maxUsers": 1,
            "features": ["reports"],
            "quotas": {"exports": {"limit": 5, "period": "day"}},
        },
    )
    assert reply.status == 201, reply
    return {"code": code, "product": product, "metered": reply.body["tierId"]}


class LosesAnswers(UrllibTransport):
    """Real HTTP, but the answers of the next ``lose`` usage reports are lost after the
    server handled them (a connection reset on the way back)."""

    lose = 0

    def __call__(self, method: str, url: str, **options: Any) -> Response:
        response = super().__call__(method, url, **options)
        if url.endswith("/usage") and self.lose:
            self.lose -= 1
            raise NetworkError(f"{method} {url} failed: connection reset")
        return response


def test_usage_counts_once_per_call_until_the_quota_refuses(
    local_server: LocalServer, metered: dict[str, str], tmp_path: Path
) -> None:
    key = issue_key(local_server, metered, "metered")
    transport = LosesAnswers()
    client = LicensingClient(
        local_server.base_url, product=metered["code"], data_dir=tmp_path, transport=transport
    )
    held = client.activate(key["keyToken"], machine_id=f"e2e-{uuid.uuid4().hex}")
    assert held.meters == {"exports"} and held.features == {"reports"}

    first = client.report_usage("exports", 2)
    assert (first.used, first.limit, first.remaining, first.replayed) == (2, 5, 3, False)
    assert first.period_ends_at.utcoffset() is not None

    transport.lose = 1  # counted, but the answer never came back: the retry replays
    retried = client.report_usage("exports", 2)
    assert retried.replayed and (retried.used, retried.remaining) == (4, 1)

    again = client.report_usage("exports", 2, idempotency_key=retried.idempotency_key)
    assert again.replayed and again.used == 4  # the same key never counts twice

    with pytest.raises(QuotaExceeded) as over:
        client.report_usage("exports", 2)  # 4 + 2 > 5: refused whole, not retried
    assert (over.value.meter, over.value.used, over.value.remaining) == ("exports", 4, 1)

    last = client.report_usage("exports", 1)
    assert (last.used, last.remaining) == (5, 0)
    with pytest.raises(QuotaExceeded) as caught:
        client.report_usage("exports", 1)
    refusal = caught.value
    assert (refusal.status, refusal.code) == (429, "QUOTA_EXCEEDED")
    assert (refusal.used, refusal.limit, refusal.remaining) == (5, 5, 0)
    assert client.has("reports")  # over quota is not unlicensed

    admin = local_server.admin_token
    reply = local_server.request("GET", f"/license-keys/{key['licenseId']}", token=admin)
    assert reply.status == 200, reply
    reply = local_server.request("GET", f"/customers/{reply.body['customerId']}/usage", token=admin)
    assert reply.status == 200, reply
    assert [(c["meter"], c["used"]) for c in reply.body["items"]] == [("exports", 5)]


EXAMPLE = Path(__file__).resolve().parents[2] / "sdk" / "examples" / "app.py"
MOMENT = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


def run_example(server: LocalServer, product: str, key: str, data_dir: Path) -> str:
    """``sdk/examples/app.py`` for one product's key, to completion: its output."""
    done = subprocess.run(  # noqa: S603 - this interpreter, the repository's example
        [
            sys.executable, str(EXAMPLE), "--base-url", server.base_url, "--key", key,
            "--product", product, "--data-dir", str(data_dir), "--run-for", "0", "--deactivate",
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_example_app_shows_any_product_s_own_license(
    local_server: LocalServer,
    metered: dict[str, str],
    catalog: dict[str, str],
    tmp_path: Path,
) -> None:
    key = issue_key(local_server, metered, "metered")["keyToken"]
    out = run_example(local_server, metered["code"], key, tmp_path / "metered")
    assert re.search(f"token valid until {MOMENT}\n", out), out
    assert "features: reports=on\n" in out
    assert "limits: exports=5, maxTenants=1, maxUsers=1\n" in out
    assert "no feature of this tier needs a step-up" in out
    assert re.search(f"exports: 1 of 5 used, 4 left until {MOMENT}\n", out), out
    assert "deactivated" in out

    demo = issue_key(local_server, catalog, "enterprise")["keyToken"]
    out = run_example(local_server, PRODUCT, demo, tmp_path / "demo")
    assert "audit_log=on, data_export=on, multi_tenant=on, passkeys=on, sso=on\n" in out
    assert "data_export with acr=pwd needs a step-up" in out
    assert "data_export with acr=mfa allowed" in out
    assert re.search(f"api_calls: 1 of 10000000 used, 9999999 left until {MOMENT}\n", out), out
