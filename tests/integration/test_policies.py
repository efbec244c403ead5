"""Tier policies in the tiers table: written in their one spelling (camelCase, as the
API shows them and tokens carry them), and tiers stored before in snake_case read as
they are: the API, key claims, machine tokens, quotas and machine files are the same,
and the tier's next write stores the one spelling."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3
import jwt as pyjwt
import pytest
from licensing_core import schemas
from licensing_core.domain.ids import utcnow
from licensing_core.services.catalog import ProductCatalog
from licensing_core.services.usage import period_of
from licensing_core.settings import get_settings
from licensing_core.store.models import ActivationRecord

from tests.integration.conftest import tier_body
from tests.integration.test_offline import file_claims
from tests.support import Response, invoke

Admin = Callable[..., Response]
DAY = 86_400

#: The policies as a vendor sends them, and as every answer and token spells them.
POLICIES: dict[str, Any] = {
    "heartbeat": {"intervalSeconds": 900, "ttlSeconds": 7200},
    "quotas": {"api_calls": {"limit": 2, "period": "day"}},
    "offline": {
        "allowed": True,
        "defaultTtlSeconds": DAY,
        "maxTtlSeconds": 2 * DAY,
        "maxBorrowSeconds": 0,
    },
    "stepUp": {"audit_log": {"acr": "mfa", "maxAge": 300}},
}

#: The attribute each is stored in.
ATTRIBUTES = {
    "heartbeat": "heartbeat",
    "quotas": "quotas",
    "offline": "offline",
    "stepUp": "step_up",
}


def legacy_items() -> dict[str, str]:
    """The attributes as tiers were stored before: the API models dumped by field name
    (snake_case), as JSON text."""
    heartbeat = schemas.HeartbeatPolicy.model_validate(POLICIES["heartbeat"])
    offline = schemas.OfflinePolicy.model_validate(POLICIES["offline"])
    dumped: dict[str, Any] = {
        "heartbeat": heartbeat.model_dump(mode="json"),
        "quotas": {
            meter: schemas.Quota.model_validate(quota).model_dump(mode="json")
            for meter, quota in POLICIES["quotas"].items()
        },
        "offline": offline.model_dump(mode="json"),
        "step_up": {
            feature: schemas.StepUpRequirement.model_validate(rule).model_dump(mode="json")
            for feature, rule in POLICIES["stepUp"].items()
        },
    }
    assert dumped["heartbeat"] == {"interval_seconds": 900, "ttl_seconds": 7200}
    assert dumped["step_up"]["audit_log"] == {"acr": "mfa", "max_age": 300}
    return {name: json.dumps(value) for name, value in dumped.items()}


def table() -> Any:
    return boto3.resource("dynamodb", region_name=get_settings().region).Table(
        get_settings().table_name("tiers")
    )


def stored(product: str, tier: str) -> dict[str, Any]:
    """The tier's policy attributes as the table holds them, decoded."""
    item = table().get_item(Key={"product_id": product, "tier_id": tier})["Item"]
    return {name: json.loads(item[attr]) for name, attr in ATTRIBUTES.items() if attr in item}


def store_legacy(product: str, tier: str, *, without_offline: bool = False) -> None:
    """Rewrite the tier's policies as an older release stored them; drop this container's
    catalog so the next request reads the item."""
    items = legacy_items()
    if without_offline:  # tiers from before offline use existed
        del items["offline"]
    names = sorted(items)  # "offline" is a reserved word: every name goes by #name
    expression = "SET " + ", ".join(f"#{name} = :{name}" for name in names)
    if without_offline:
        expression += " REMOVE #offline"
    table().update_item(
        Key={"product_id": product, "tier_id": tier},
        UpdateExpression=expression,
        ExpressionAttributeNames={f"#{name}": name for name in {*names, "offline"}},
        ExpressionAttributeValues={f":{name}": items[name] for name in names},
    )
    ProductCatalog.forget(product)


@pytest.fixture
def tier(admin: Admin, product: str) -> str:
    created = admin(
        "POST",
        f"/products/{product}/tiers",
        tier_body("legacy", maxUsers=2, features=["audit_log", "sso"], **POLICIES),
    )
    assert created.status == 201, created.text
    return str(created.json["tierId"])


@pytest.fixture
def key(admin: Admin, product: str, tier: str) -> Callable[[], dict[str, Any]]:
    customer = admin("POST", "/customers", {"email": "lin@example.com", "name": "Lin"}).json

    def issue() -> dict[str, Any]:
        body = {
            "productId": product,
            "tierId": tier,
            "customerId": customer["customerId"],
            "perpetual": True,
        }
        issued = admin("POST", "/license-keys", body)
        assert issued.status == 201, issued.text
        answer: dict[str, Any] = issued.json
        return answer

    return issue


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = pyjwt.decode(token, options={"verify_signature": False})
    return claims


def test_a_new_tier_stores_its_policies_in_the_one_spelling(
    admin: Admin, product: str, tier: str
) -> None:
    assert stored(product, tier) == POLICIES
    shown = admin("GET", f"/products/{product}/tiers/{tier}").json
    assert {name: shown[name] for name in POLICIES} == POLICIES


def test_a_tier_stored_in_snake_case_reads_the_same_everywhere_until_rewritten(
    admin: Admin, product: str, tier: str, key: Callable[[], dict[str, Any]]
) -> None:
    path = f"/products/{product}/tiers/{tier}"
    before = admin("GET", path).json
    store_legacy(product, tier)
    assert stored(product, tier)["heartbeat"] == {"interval_seconds": 900, "ttl_seconds": 7200}

    assert admin("GET", path).json == before  # the API shows what it showed

    issued = key()
    claims = claims_of(issued["keyToken"])
    assert claims["heartbeat"] == POLICIES["heartbeat"]
    assert claims["limits"]["quotas"] == POLICIES["quotas"]
    assert claims["stepUp"] == POLICIES["stepUp"]

    started = utcnow()
    activated = invoke(
        "POST",
        "/license-activations/activate",
        body={"keyToken": issued["keyToken"], "machineId": "m-1"},
    )
    assert activated.status == 201, activated.text
    machine = claims_of(activated.json["token"])
    assert machine["exp"] - machine["iat"] == 7200 and machine["heartbeat"] == claims["heartbeat"]
    record = ActivationRecord.get(issued["licenseId"], activated.json["activationId"])
    assert int(record.ttl_seconds) == 7200
    next_at = datetime.fromisoformat(activated.json["nextHeartbeatAt"])
    assert 900 <= (next_at - started).total_seconds() < 960

    def use(idempotency_key: str) -> Response:
        body = {"clientId": activated.json["clientId"], "meter": "api_calls", "quantity": 1}
        return invoke("POST", "/usage", body={**body, "idempotencyKey": idempotency_key})

    counted = [use("u1"), use("u2")]
    assert [r.status for r in counted] == [200, 200], counted[-1].text
    assert counted[-1].json["limit"] == 2 and counted[-1].json["remaining"] == 0
    ends = schemas.UsageResult.model_validate(counted[-1].json).period_ends_at
    assert ends in {period_of("day", started)[1], period_of("day", utcnow())[1]}  # a day quota
    refused = use("u3")
    assert (refused.status, refused.json["code"]) == (429, "QUOTA_EXCEEDED"), refused.text

    checkout = invoke(
        "POST", "/license-activations/checkout", body={"clientId": activated.json["clientId"]}
    )
    assert checkout.status == 200, checkout.text
    machine_file = file_claims(checkout.json, None)
    assert machine_file["exp"] - machine_file["iat"] == DAY  # the default ttl stored before
    above = invoke(
        "POST",
        "/license-activations/checkout",
        body={"clientId": activated.json["clientId"], "ttlSeconds": 2 * DAY + 1},
    )
    assert (above.status, above.json["code"]) == (422, "TTL_ABOVE_POLICY")

    renamed = admin("PATCH", path, {"name": "Renamed"})
    assert renamed.status == 200, renamed.text
    assert stored(product, tier) == POLICIES  # the next write spells them once
    assert {name: renamed.json[name] for name in POLICIES} == POLICIES


def test_a_tier_stored_without_an_offline_policy_allows_no_offline_use(
    admin: Admin, product: str, tier: str, key: Callable[[], dict[str, Any]]
) -> None:
    store_legacy(product, tier, without_offline=True)
    assert "offline" not in stored(product, tier)
    shown = admin("GET", f"/products/{product}/tiers/{tier}").json
    assert shown["offline"] == schemas.OfflinePolicy().model_dump(by_alias=True)
    assert shown["offline"]["allowed"] is False
    issued = key()
    activated = invoke(
        "POST",
        "/license-activations/activate",
        body={"keyToken": issued["keyToken"], "machineId": "m-1"},
    )
    checkout = invoke(
        "POST", "/license-activations/checkout", body={"clientId": activated.json["clientId"]}
    )
    assert (checkout.status, checkout.json["code"]) == (403, "OFFLINE_NOT_ALLOWED")
