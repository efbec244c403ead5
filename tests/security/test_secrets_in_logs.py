"""Secrets never reach the server's log: a whole key lifecycle (issue, activate with and
without a machine key, heartbeat, usage, validate, audit, regenerate, revoke) and its
failures, then the log written meanwhile is scanned for every credential involved.

The startup banner prints the first admin token on purpose (a local development
convenience, like ``make token``); the scan covers what the server logged after it.
"""

from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives import serialization

from tests.security.support import Api, World, new_rsa_key

pytestmark = pytest.mark.e2e


def test_a_full_lifecycle_logs_no_secret(api: Api, world: World) -> None:
    before = len(api.server.output())
    secrets: dict[str, str] = {
        "admin bearer": api.admin_token,
        "user bearer": api.user_token,
    }
    license = world.license()
    secrets["key token"] = license.key_token
    machine_key = new_rsa_key()
    pem = machine_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encrypted = api.anon(
        "POST",
        "/license-activations/activate",
        {"keyToken": license.key_token, "machineId": "logs-jwe", "publicKey": pem.decode()},
    ).body
    plain = world.activate(license, "logs-jws")
    for n, activation in enumerate((encrypted, plain)):
        secrets[f"client id {n}"] = activation["clientId"]
        secrets[f"client secret {n}"] = activation["clientId"].partition(".")[2]
        secrets[f"machine token {n}"] = activation["token"]
        beat = api.anon("POST", "/license-keys/heartbeat", {"clientId": activation["clientId"]})
        assert beat.status == 200, beat.body
        secrets[f"renewed token {n}"] = beat.body["token"]
    usage = api.anon(
        "POST",
        "/usage",
        {
            "clientId": plain["clientId"],
            "meter": "api_calls",
            "quantity": 1,
            "idempotencyKey": uuid.uuid4().hex,
        },
    )
    assert usage.status == 200, usage.body
    assert api.anon("POST", "/license-keys/validate", {"keyToken": license.key_token}).body["valid"]
    api.ok("POST", f"/license-keys/{license.license_id}/audit", {"token": license.key_token})
    regenerated = api.ok("POST", f"/license-keys/{license.license_id}/regenerate", {})
    secrets["regenerated key"] = regenerated["keyToken"]
    api.ok("POST", f"/license-keys/{license.license_id}/revoke", {"reason": "log scan"})
    # failures log too: refused keys and clients, bad bearers
    api.anon("POST", "/license-keys/validate", {"keyToken": license.key_token + "x"})
    api.anon("POST", "/license-keys/heartbeat", {"clientId": plain["clientId"]})
    api.anon("POST", "/license-keys/heartbeat", {"clientId": plain["clientId"] + "x"})
    api.anon("GET", "/products", headers={"Authorization": f"Bearer {license.key_token}"})
    api.anon("GET", "/products", headers={"Authorization": "Bearer " + "A" * 64})

    logged = api.server.output()[before:]
    assert "/license-keys/heartbeat" in logged  # the scan sees the flow's log
    for name, secret in secrets.items():
        assert secret not in logged, f"the {name} is in the server log"
        signature = secret.rsplit(".", 1)[-1]
        if len(signature) >= 20:
            assert signature not in logged, f"the {name}'s last segment is in the server log"
    for marker in ("PRIVATE KEY", "-----BEGIN", "Authorization", "Bearer ey", '"d":'):
        assert marker not in logged, f"{marker!r} is in the server log"
    assert "Traceback" not in logged, logged
