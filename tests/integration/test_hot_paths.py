"""The hot paths make only the calls they need (bench/floor.py): the heartbeat reads the
activation and its license once and never the identity, activate never reads a new
machine's claim, and both serve the catalog from the container's copy for a bounded
time. Each shortcut keeps the answers of the long way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest
from licensing_core.services import activations, catalog
from licensing_core.settings import reset_settings
from licensing_core.store import activations as activation_store
from licensing_core.store import catalog as catalog_store
from licensing_core.store import identities as identity_store
from licensing_core.store import licenses as license_store
from licensing_core.store.models import (
    CustomerRecord,
    LicenseRecord,
    ProductRecord,
    TierRecord,
)

from tests import table_grants
from tests.support import Response, invoke

Admin = Callable[..., Response]


@pytest.fixture
def key(admin: Admin, product: str, tiers: dict[str, str]) -> Callable[[str], dict[str, Any]]:
    customer = admin("POST", "/customers", {"email": "ada@example.com", "name": "Ada"}).json
    customer_id = customer["customerId"]

    def issue(tier: str) -> dict[str, Any]:
        body = {
            "productId": product,
            "tierId": tiers[tier],
            "customerId": customer_id,
            "perpetual": True,
        }
        response = admin("POST", "/license-keys", body)
        assert response.status == 201, response.text
        return {**response.json, "customerId": customer_id}

    return issue


def activate(key_token: str, machine: str) -> Response:
    body = {"keyToken": key_token, "machineId": machine}
    return invoke("POST", "/license-activations/activate", body=body)


def heartbeat(client_id: str) -> Response:
    return invoke("POST", "/license-keys/heartbeat", body={"clientId": client_id})


def claims(response: Response) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(
        response.json["token"], options={"verify_signature": False}
    )
    return decoded


def refuse(*_: object, **__: object) -> Any:
    raise AssertionError("the hot path made a read it does not need")


def test_a_heartbeat_reads_no_identity_and_its_token_names_the_licenses(
    key: Callable[[str], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = key("pro")
    client_id = activate(issued["keyToken"], "m1").json["clientId"]
    monkeypatch.setattr(license_store, "license_and_customer", refuse)
    monkeypatch.setattr(identity_store, "get_customer", refuse)
    monkeypatch.setattr(catalog_store, "get_product", refuse)  # the catalog is cached
    beat = heartbeat(client_id)
    assert beat.status == 200, beat.text
    stored = LicenseRecord.get(issued["licenseId"])
    assert (claims(beat)["customer"], claims(beat)["tenant"]) == (
        issued["customerId"],
        stored.tenant_id,
    )


def test_a_new_machine_is_activated_without_reading_its_claim(
    key: Callable[[str], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = key("pro")
    monkeypatch.setattr(activation_store, "find_machine", refuse)
    assert activate(issued["keyToken"], "m1").status == 201


def test_a_known_machine_at_the_seat_limit_gets_its_own_seat_back(
    key: Callable[[str], dict[str, Any]],
) -> None:
    """The insert fails on the machine's claim and on the full counter at once: the
    machine wins (no SEAT_LIMIT_REACHED for the machine holding the seat)."""
    issued = key("free")  # maxUsers 1
    first = activate(issued["keyToken"], "m1").json
    again = activate(issued["keyToken"], "m1")
    assert again.status == 200, again.text
    assert int(LicenseRecord.get(issued["licenseId"]).active_seats) == 1
    assert heartbeat(first["clientId"]).json["code"] == "UNKNOWN_CLIENT"
    assert heartbeat(again.json["clientId"]).status == 200
    assert activate(issued["keyToken"], "m2").json["code"] == "SEAT_LIMIT_REACHED"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ("deactivate identity", 403, "IDENTITY_DEACTIVATED"),
        ("delete identity", 403, "IDENTITY_DEACTIVATED"),
        ("suspend license", 403, "SUSPENDED"),
        ("deactivate machine", 404, "UNKNOWN_CLIENT"),
    ],
)
def test_a_change_racing_a_heartbeat_wins_and_is_named(
    key: Callable[[str], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    change: str,
    status: int,
    code: str,
) -> None:
    """The change lands between the heartbeat's read and its write: no token, and the
    refusal says why (read again on that path)."""
    issued = key("pro")
    client_id = activate(issued["keyToken"], "m1").json["clientId"]
    original = activations._machine_token

    def sign_then_change(*args: Any) -> Any:
        token = original(*args)
        with table_grants.elsewhere():
            if change == "deactivate identity":
                customer = CustomerRecord.get(issued["customerId"])
                customer.update(actions=[CustomerRecord.status.set("deactivated")])
            elif change == "delete identity":
                CustomerRecord.get(issued["customerId"]).delete()
            elif change == "suspend license":
                license = LicenseRecord.get(issued["licenseId"])
                license.update(actions=[LicenseRecord.status.set("suspended")])
            else:
                invoke("POST", "/license-activations/deactivate", body={"clientId": client_id})
        return token

    monkeypatch.setattr(activations, "_machine_token", sign_then_change)
    refused = heartbeat(client_id)
    assert (refused.status, refused.json["code"]) == (status, code)
    assert "token" not in refused.json


def _tier_changed_elsewhere(product: str, tier_id: str, features: list[str]) -> None:
    """A tier write made by another container: this one's cached copy is not told."""
    tier = TierRecord.get(product, tier_id)
    tier.update(actions=[TierRecord.features.set(features)])
    record = ProductRecord.get(product)
    record.update(actions=[ProductRecord.tiers_version.add(1)])


def test_a_tier_change_reaches_tokens_within_the_catalog_cache_bound(
    key: Callable[[str], dict[str, Any]],
    product: str,
    tiers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client_id = activate(key("pro")["keyToken"], "m1").json["clientId"]
    assert "audit_log" not in claims(heartbeat(client_id))["features"]
    _tier_changed_elsewhere(product, tiers["pro"], ["passkeys", "multi_tenant", "audit_log"])
    assert "audit_log" not in claims(heartbeat(client_id))["features"]  # within 60 s
    now = catalog.time.monotonic()
    monkeypatch.setattr(catalog.time, "monotonic", lambda: now + 61)
    assert "audit_log" in claims(heartbeat(client_id))["features"]


def test_without_a_catalog_cache_the_next_token_sees_a_tier_change(
    key: Callable[[str], dict[str, Any]],
    product: str,
    tiers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LICENSING_CATALOG_CACHE_SECONDS", "0")
    reset_settings()
    client_id = activate(key("pro")["keyToken"], "m1").json["clientId"]
    assert "audit_log" not in claims(heartbeat(client_id))["features"]
    _tier_changed_elsewhere(product, tiers["pro"], ["passkeys", "multi_tenant", "audit_log"])
    assert "audit_log" in claims(heartbeat(client_id))["features"]
