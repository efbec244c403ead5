"""The data every hot-path benchmark runs on, created through the real services on
moto's in-process AWS: a product with features and three tiers (inheriting), one
license per path (each for its own identity, so activations never revoke a sibling
under test), and two live activations for the heartbeats."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.floor import Floor, Tables, b64url_decode
from bench.support import REGION, api_event, invoke

FEATURES = [
    ("sso", False),
    ("passkeys", False),
    ("multi_tenant", False),
    ("audit_log", False),
    ("priority_support", True),
]


@dataclass(frozen=True)
class Key:
    license_id: str
    customer_id: str
    token: str

    @property
    def claims(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(b64url_decode(self.token.split(".")[1]))
        return decoded


@dataclass(frozen=True)
class World:
    product_id: str
    tiers: dict[str, str]
    validate: Key
    activate_jws: Key
    activate_jwe: Key
    heartbeat_jws: Key
    heartbeat_jwe: Key
    heartbeat_jws_client: str
    heartbeat_jwe_client: str
    machine_pem: str
    floor: Floor


def new_tier(product_id: str, body: dict[str, Any]) -> str:
    """A tier created through the catalog service (name, prices, billing defaulted)."""
    from licensing_core import schemas
    from licensing_core.services import catalog

    base = {
        "name": body["code"].title(),
        "monthlyPrice": 0,
        "annualPrice": 0,
        "currency": "EUR",
        "billingPeriods": ["monthly", "annual"],
    }
    return catalog.create_tier(
        product_id, schemas.TierCreate.model_validate({**base, **body})
    ).tier_id


def new_license(product_id: str, tier_id: str, email: str) -> Key:
    """A perpetual license for a new identity, issued through the services."""
    from licensing_core import schemas
    from licensing_core.services import identities, licenses

    customer = identities.create_customer(
        schemas.CustomerCreate(email=email, name="Bench"), "bench"
    )
    key = licenses.issue(
        schemas.LicenseCreate(
            product_id=product_id,
            tier_id=tier_id,
            customer_id=customer.customer_id,
            perpetual=True,
        ),
        actor="bench",
    )
    return Key(key.license_id, customer.customer_id, key.key_token)


def machine_keypair() -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, pem.decode()


def activate_event(key: Key, machine: str, public_pem: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"keyToken": key.token, "machineId": machine}
    if public_pem is not None:
        body["publicKey"] = public_pem
    return api_event("POST", "/license-activations/activate", body)


def build() -> World:
    """Seed the catalog, licenses and activations (inside ``mock_aws`` and
    :func:`bench.support.isolated_environment`)."""
    from licensing_core import schemas
    from licensing_core.services import catalog
    from licensing_core.settings import get_settings
    from licensing_core.store.base import create_missing_tables
    from licensing_core.store.models import ALL_MODELS
    from licensing_core.tokens.signer import get_signer

    create_missing_tables(ALL_MODELS)
    product_id = catalog.create_product(
        schemas.ProductCreate(code="Bench.App", name="Bench")
    ).product_id
    for key, display_only in FEATURES:
        catalog.create_feature(
            product_id,
            schemas.FeatureCreate(key=key, name=key.title(), display_only=display_only),
        )
    free = new_tier(product_id, {"code": "free", "maxUsers": 1, "features": ["sso"]})
    pro = new_tier(
        product_id,
        {
            "code": "pro",
            "includesTierId": free,
            "maxUsers": 5,
            "features": ["passkeys", "multi_tenant"],
            "quotas": {"api_calls": {"limit": 100000, "period": "month"}},
        },
    )
    fleet = new_tier(
        product_id,
        {
            "code": "fleet",
            "includesTierId": pro,
            "maxUsers": 10**9,
            "features": ["audit_log", "priority_support"],
            "stepUp": {"audit_log": {"acr": "mfa", "maxAge": 300}},
        },
    )
    keys = [
        new_license(product_id, tier, f"bench{n}@example.com")
        for n, tier in enumerate([pro, fleet, fleet, fleet, fleet])
    ]
    _, machine_pem = machine_keypair()
    clients = []
    for holder, pem in ((keys[3], None), (keys[4], machine_pem)):
        status, body = invoke("activate", activate_event(holder, "heartbeat-machine", pem))
        assert status == 201, body
        clients.append(str(body["clientId"]))

    settings = get_settings()
    signer = get_signer()
    private = serialization.load_pem_private_key(
        Path(settings.signing_key_path).read_bytes(), password=None
    )
    assert isinstance(private, rsa.RSAPrivateKey)
    client = boto3.session.Session(region_name=REGION).client("dynamodb")
    tables = Tables(**{name: settings.table_name(name) for name in Tables.__dataclass_fields__})
    floor = Floor(client, tables, private, signer.current.kid)
    return World(
        product_id=product_id,
        tiers={"free": free, "pro": pro, "fleet": fleet},
        validate=keys[0],
        activate_jws=keys[1],
        activate_jwe=keys[2],
        heartbeat_jws=keys[3],
        heartbeat_jwe=keys[4],
        heartbeat_jws_client=clients[0],
        heartbeat_jwe_client=clients[1],
        machine_pem=machine_pem,
        floor=floor,
    )
