"""The seed product's lifecycle over real HTTP: catalog, key, foreign verification,
activation with a machine key, heartbeat, revocation."""

from __future__ import annotations

import json
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwe, jwk

from local.aws import with_mfa
from tests.e2e.client import LocalServer, call

pytestmark = pytest.mark.e2e


def admin(server: LocalServer, method: str, path: str, body: Any = None) -> Any:
    reply = server.request(method, path, token=server.admin_token, json_body=body)
    assert reply.status < 300, (reply.status, reply.body)
    return reply.body


def test_key_lifecycle_over_http(local_server: LocalServer) -> None:
    product = next(
        p for p in admin(local_server, "GET", "/products")["items"] if p["code"] == "Rdn.Identity"
    )
    tiers = {
        t["code"]: t
        for t in admin(local_server, "GET", f"/products/{product['productId']}/tiers")["items"]
    }
    assert tiers["enterprise"]["resolved"]["chain"][-1] == tiers["free"]["tierId"]
    pricing = call("GET", f"{local_server.base_url}/products/Rdn.Identity/pricing").body
    assert [t["code"] for t in pricing["tiers"]] == ["free", "pro", "enterprise"]
    customer = admin(
        local_server, "POST", "/customers", {"email": "e2e@example.com", "name": "E2E"}
    )
    key = admin(
        local_server,
        "POST",
        "/license-keys",
        {
            "productId": product["productId"],
            "tierId": tiers["pro"]["tierId"],
            "customerId": customer["customerId"],
            "perpetual": True,
        },
    )

    # A foreign verifier needs nothing but the JWKS fetched over HTTP.
    jwks = call("GET", f"{local_server.base_url}/.well-known/jwks.json").body
    config = call("GET", f"{local_server.base_url}/.well-known/license-configuration").body
    header = pyjwt.get_unverified_header(key["keyToken"])
    claims = pyjwt.decode(
        key["keyToken"],
        key=pyjwt.PyJWKSet.from_dict(jwks)[header["kid"]],
        algorithms=["RS256"],
        audience="Rdn.Identity",
        issuer=config["issuer"],
    )
    assert claims["features"] == ["multi_tenant", "passkeys", "sso"]

    # Activate with a machine key: the token is a JWE only that machine reads.
    machine = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = machine.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    activated = call(
        "POST",
        config["activation_endpoint"],
        json_body={
            "keyToken": key["keyToken"],
            "machineId": "e2e-machine",
            "publicKey": pem.decode(),
            "product": "Rdn.Identity",
        },
    )
    assert activated.status == 201, activated.body
    envelope = jwe.JWE()
    envelope.deserialize(activated.body["token"], key=jwk.JWK.from_pyca(machine))
    inner = envelope.payload.decode()
    assert pyjwt.get_unverified_header(inner)["typ"] == "activation+jwt"
    machine_claims = pyjwt.decode(
        inner,
        key=pyjwt.PyJWKSet.from_dict(jwks)[header["kid"]],
        algorithms=["RS256"],
        audience="Rdn.Identity",
    )
    assert machine_claims["machineId"] == "e2e-machine"

    beat = call(
        "POST", config["heartbeat_endpoint"], json_body={"clientId": activated.body["clientId"]}
    )
    assert beat.status == 200 and beat.body["tokenType"] == "jwe"
    seats = admin(local_server, "GET", f"/license-keys/{key['licenseId']}/activations")
    assert (seats["activeSeats"], seats["maxUsers"]) == (1, 5)

    weak = local_server.request(
        "POST",
        f"/license-keys/{key['licenseId']}/revoke",
        token=local_server.admin_token,
        json_body={"reason": "e2e"},
    )
    assert (weak.status, weak.body["code"]) == (401, "STEP_UP_REQUIRED")
    assert 'acr_values="mfa"' in weak.headers["www-authenticate"]
    revoked = local_server.request(
        "POST",
        f"/license-keys/{key['licenseId']}/revoke",
        token=with_mfa(local_server.admin_token),
        json_body={"reason": "e2e"},
    )
    assert revoked.status == 200, revoked.body
    refused = call(
        "POST", config["heartbeat_endpoint"], json_body={"clientId": activated.body["clientId"]}
    )
    assert (refused.status, refused.body["code"]) == (403, "REVOKED")
    assert refused.headers["content-type"] == "application/problem+json"
    validated = call(
        "POST", config["validate_endpoint"], json_body={"keyToken": key["keyToken"]}
    ).body
    assert (validated["valid"], validated["code"], validated["claims"]) == (False, "REVOKED", None)
    assert json.dumps(refused.body).find(key["keyToken"]) == -1
