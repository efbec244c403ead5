"""Valid requests for every route of the route table, so generated attacks (BFLA, mass
assignment) hit each route with a body that would otherwise be accepted.

A route whose request model has no example here fails the generated tests with a message
saying to add one: new routes cannot slip past the suite.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from licensing_client import offline
from licensing_core.routes import Route

from tests.security.support import Json, License, World

_PARAM = re.compile(r"{([A-Za-z][A-Za-z0-9]*)}")


@dataclass(frozen=True)
class Target:
    """What an attack aims at: real ids of the world, and a live activation."""

    world: World
    victim: License
    client_id: str
    activation_id: str

    def path(self, route: Route) -> str:
        values = {
            "productId": self.world.product_id,
            "tierId": self.world.tiers["five"],
            "tenantId": self.world.tenant_id,
            "customerId": self.victim.customer_id,
            "licenseId": self.victim.license_id,
            "activationId": self.activation_id,
        }
        return _PARAM.sub(lambda m: values.get(m.group(1), "unknown"), route.path)


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


EXAMPLES: dict[str, Callable[[Target], Json]] = {
    "ProductCreate": lambda t: {"code": _unique("Atk."), "name": "Attack product"},
    "FeatureCreate": lambda t: {"key": _unique("atk_"), "name": "Attack feature"},
    "TierCreate": lambda t: {
        "code": _unique("atk-"),
        "name": "Attack tier",
        "monthlyPrice": 0,
        "annualPrice": 0,
        "currency": "EUR",
        "billingPeriods": ["monthly"],
        "maxUsers": 1,
    },
    "TierUpdate": lambda t: {"name": "Renamed by an attacker"},
    "TenantCreate": lambda t: {"name": "Attack tenant"},
    "CustomerCreate": lambda t: {"email": f"{_unique('atk')}@example.com", "name": "Attacker"},
    "LicenseCreate": lambda t: {
        "productId": t.world.product_id,
        "tierId": t.world.tiers["five"],
        "customerId": t.victim.customer_id,
        "perpetual": True,
    },
    "ValidateRequest": lambda t: {"keyToken": t.victim.key_token},
    "StatusChange": lambda t: {"reason": "attack"},
    "Reinstate": lambda t: {"reason": "attack"},
    "Renew": lambda t: {"expiresAt": "2090-01-01T00:00:00Z"},
    "Regenerate": lambda t: {"revokePrevious": True},
    "AuditRequest": lambda t: {},
    "ActivateRequest": lambda t: {"keyToken": t.victim.key_token, "machineId": _unique("atk-")},
    "HeartbeatRequest": lambda t: {"clientId": t.client_id},
    "DeactivateRequest": lambda t: {"clientId": t.client_id},
    "CustomerStatusChange": lambda t: {"reason": "attack"},
    "ClaimRequest": lambda t: {"productCode": t.world.product_code},
    "RegisterRequest": lambda t: {
        "email": f"{_unique('atk')}@example.com",
        "productCode": t.world.product_code,
        "tierCode": "five",
    },
    "CheckoutRequest": lambda t: {"clientId": t.client_id, "ttlSeconds": 3600},
    "BorrowRequest": lambda t: {"clientId": t.client_id, "seconds": 3600},
    "OfflineActivationRequest": lambda t: {"request": _offline_request(t)},
    "SeatProof": lambda t: {"proof": _seat_proof(t)},
    "UsageReport": lambda t: {
        "clientId": t.client_id,
        "meter": "api_calls",
        "quantity": 1,
        "idempotencyKey": _unique("atk-"),
    },
}


def _machine_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _offline_request(t: Target) -> str:
    """An offline activation request of the victim's key, as its SDK writes one."""
    return offline.activation_request(
        key_token=t.victim.key_token,
        machine_id=_unique("atk-"),
        product=t.world.product_code,
        key=_machine_key(),
        now=time.time(),
    )


def _seat_proof(t: Target) -> str:
    """A deactivation proof for the victim's activation (signed by a key of the attacker's)."""
    return offline.seat_proof(
        license_id=t.victim.license_id,
        activation_id=t.activation_id,
        key=_machine_key(),
        now=time.time(),
        typ=offline.DEACTIVATION_PROOF_TYP,
    )


#: Query parameters a route needs to answer at all (a search needs somewhere to start).
QUERIES: dict[str, Callable[[Target], dict[str, str]]] = {
    "LicenseSearch": lambda t: {"productId": t.world.product_id},
    "CustomerSearch": lambda t: {"tenantId": t.world.tenant_id},
}


def query_example(route: Route, target: Target) -> dict[str, str]:
    """Query parameters the route answers with a page (none for most)."""
    build = QUERIES.get(route.query.__name__) if route.query is not None else None
    return build(target) if build else {}


def example(route: Route, target: Target) -> Json | None:
    """A body the route would accept (None for routes without a request model)."""
    if route.request is None:
        return None
    build = EXAMPLES.get(route.request.__name__)
    if build is None:
        raise LookupError(
            f"{route.route_key} takes {route.request.__name__}: add a valid example body to "
            "tests/security/examples.py so the attack suite covers it"
        )
    return build(target)
