"""The irreducible work of each hot path, done with nothing but raw boto3 and
``cryptography``: the floor the real handlers are measured against.

The floor makes the DynamoDB calls a request needs with the same data model and the
same guarantees (``CALLS``, and ``REASONS`` for why they are enough), which are also
the calls the code makes: ``handler / floor`` is then the cost of the Python layers
(pydantic, PynamoDB, jwcrypto, the endpoint wrapper) alone. The benchmark observes the
calls each handler makes and flags any drift from ``CALLS``.

The cryptography is the same as the handler's: an RS256 verify of the license key
and/or an RS256 sign of the machine token with a cached key, plus for JWE an RSA-OAEP
wrap of a fresh 64-byte CEK, AES-256-CBC and HMAC-SHA-512 (RFC 7518 5.2.5).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PKCS1 = asymmetric.PKCS1v15()
OAEP = asymmetric.OAEP(mgf=asymmetric.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303 - RSA-OAEP (RFC 7518) is SHA-1 by definition
SHA256 = hashes.SHA256()
JWE_HEADER = {"alg": "RSA-OAEP", "enc": "A256CBC-HS512", "cty": "JWT"}

#: The DynamoDB calls each path needs (the floor), as DynamoDB operations with what they
#: touch. The product catalog is not read: it is cached per warm container (re-read at
#: most once a minute, ``LICENSING_CATALOG_CACHE_SECONDS``).
CALLS: dict[str, list[str]] = {
    "validate": ["TransactGetItems(license, customer)"],
    "activate": [
        "TransactGetItems(license, customer)",
        "Query(licenses GSI by-customer: siblings)",
        "TransactWriteItems(activation, machine claim, audit, license seat counter)",
    ],
    "heartbeat": [
        "TransactGetItems(activation, license)",
        "TransactWriteItems(check license, check customer, update activation)",
    ],
}

#: Why those calls are enough, for the report.
REASONS = {
    "validate": "one consistent read of both records",
    "activate": "no machine-claim pre-read: the transaction's attribute_not_exists on "
    "the machine's claim detects a known machine (only then is it read, and the "
    "re-activation path taken); siblings come from the index, the seat from the "
    "transaction's condition on the license's counter",
    "heartbeat": "activation and license in one read (the license id is in the "
    "clientId); no identity read: its ids are on the license and the renewing "
    "transaction's ConditionCheck refuses a deactivated identity (a refusal is then "
    "explained by a second read, on that path only)",
}


def operations(path: str) -> list[str]:
    """The DynamoDB operation names of ``CALLS[path]`` (what moto sees)."""
    return [call.partition("(")[0] for call in CALLS[path]]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def stamp(moment: datetime) -> str:
    """PynamoDB's UTCDateTimeAttribute format (sorts as a string)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


def jwe_encrypt(plaintext: bytes, key: rsa.RSAPublicKey) -> str:
    """Compact JWE, RSA-OAEP + A256CBC-HS512, with raw ``cryptography``."""
    header = b64url(json.dumps(JWE_HEADER).encode())
    cek = os.urandom(64)
    mac_key, enc_key = cek[:32], cek[32:]
    wrapped = key.encrypt(cek, OAEP)
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(data) + encryptor.finalize()
    aad = header.encode("ascii")
    tag = hmac.new(
        mac_key, aad + iv + ciphertext + struct.pack(">Q", len(aad) * 8), hashlib.sha512
    ).digest()[:32]
    return ".".join((header, b64url(wrapped), b64url(iv), b64url(ciphertext), b64url(tag)))


def public_jwk(key: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "RSA",
        "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
    }


def key_from_jwk(jwk: dict[str, str]) -> rsa.RSAPublicKey:
    n = int.from_bytes(b64url_decode(jwk["n"]), "big")
    e = int.from_bytes(b64url_decode(jwk["e"]), "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


@dataclass(frozen=True)
class Tables:
    products: str
    features: str
    tiers: str
    customers: str
    licenses: str
    activations: str
    audit: str
    uniques: str


@dataclass
class Floor:
    """The floor implementations, sharing one raw boto3 client and cached keys."""

    client: Any
    tables: Tables
    private_key: rsa.RSAPrivateKey
    kid: str
    public_key: rsa.RSAPublicKey = field(init=False)

    def __post_init__(self) -> None:
        self.public_key = self.private_key.public_key()  # cached, as a verifier would

    # Pieces

    def _verify(self, token: str) -> dict[str, Any]:
        signing_input, _, signature = token.rpartition(".")
        self.public_key.verify(
            b64url_decode(signature), signing_input.encode("ascii"), PKCS1, SHA256
        )
        claims: dict[str, Any] = json.loads(b64url_decode(signing_input.partition(".")[2]))
        return claims

    def _sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "kid": self.kid, "typ": "activation+jwt"}
        signing_input = ".".join(
            b64url(json.dumps(part, separators=(",", ":"), sort_keys=True).encode())
            for part in (header, claims)
        )
        signature = self.private_key.sign(signing_input.encode("ascii"), PKCS1, SHA256)
        return f"{signing_input}.{b64url(signature)}"

    def _license_and_customer(self, license_id: str, customer_id: str) -> list[dict[str, Any]]:
        response = self.client.transact_get_items(
            TransactItems=[
                {
                    "Get": {
                        "TableName": self.tables.licenses,
                        "Key": {"license_id": {"S": license_id}},
                    }
                },
                {
                    "Get": {
                        "TableName": self.tables.customers,
                        "Key": {"customer_id": {"S": customer_id}},
                    }
                },
            ]
        )
        items: list[dict[str, Any]] = [r["Item"] for r in response["Responses"]]
        return items

    def _machine_claims(
        self, key_claims: dict[str, Any], client_id: str, machine: str
    ) -> dict[str, Any]:
        now = int(datetime.now(UTC).timestamp())
        return {
            **key_claims,
            "iat": now,
            "nbf": now,
            "jti": secrets.token_urlsafe(16),
            "exp": now + 172_800,
            "cid": client_id,
            "machineId": machine,
        }

    # Paths

    def validate(self, key_token: str) -> None:
        claims = self._verify(key_token)
        self._license_and_customer(claims["sub"], claims["customer"])

    def activate(self, key_token: str, machine: str, public_pem: str | None) -> str:
        claims = self._verify(key_token)
        license_id, customer_id = claims["sub"], claims["customer"]
        self._license_and_customer(license_id, customer_id)
        machine_key = None
        if public_pem is not None:
            loaded = serialization.load_pem_public_key(public_pem.encode())
            assert isinstance(loaded, rsa.RSAPublicKey)
            machine_key = public_jwk(loaded)
        claim_key = f"MACHINE#{license_id}#{hashlib.sha256(machine.encode()).hexdigest()}"
        self.client.query(
            TableName=self.tables.licenses,
            IndexName="by-customer",
            KeyConditionExpression="customer_id = :c",
            ExpressionAttributeValues={":c": {"S": customer_id}},
            Limit=40,
        )
        client_id = f"{license_id}.{secrets.token_urlsafe(24)}"
        activation_id = hashlib.sha256(client_id.encode()).hexdigest()[:40]
        token = self._sign(self._machine_claims(claims, client_id, machine))
        if machine_key is not None:
            token = jwe_encrypt(token.encode("ascii"), key_from_jwk(machine_key))
        now = stamp(datetime.now(UTC))
        activation = {
            "license_id": {"S": license_id},
            "activation_id": {"S": activation_id},
            "customer_id": {"S": customer_id},
            "machine_id": {"S": machine},
            "source_ip": {"S": "198.51.100.7"},
            "user_agent": {"S": "bench"},
            "ttl_seconds": {"N": "172800"},
            "activated_at": {"S": now},
            "last_heartbeat_at": {"S": now},
            "heartbeats": {"N": "0"},
            "status": {"S": "active"},
        }
        if machine_key is not None:
            activation["public_key"] = {"S": json.dumps(machine_key)}
        details = json.dumps({"activationId": activation_id, "machineId": machine})
        self.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.tables.activations,
                        "Item": activation,
                        "ConditionExpression": "attribute_not_exists(activation_id)",
                    }
                },
                {
                    "Put": {
                        "TableName": self.tables.uniques,
                        "Item": {"key": {"S": claim_key}, "owner": {"S": activation_id}},
                        "ConditionExpression": "attribute_not_exists(#k)",
                        "ExpressionAttributeNames": {"#k": "key"},
                    }
                },
                {
                    "Put": {
                        "TableName": self.tables.audit,
                        "Item": {
                            "subject_id": {"S": license_id},
                            "event_key": {"S": f"{now}#{secrets.token_hex(4)}"},
                            "action": {"S": "activation.created"},
                            "actor": {"S": "system:activation"},
                            "details": {"S": details},
                            "at": {"S": now},
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": self.tables.licenses,
                        "Key": {"license_id": {"S": license_id}},
                        "UpdateExpression": "ADD active_seats :one",
                        "ConditionExpression": "#s = :active AND active_seats < :max",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":one": {"N": "1"},
                            ":active": {"S": "active"},
                            ":max": {"N": "1000000000"},
                        },
                    }
                },
            ]
        )
        return token

    def heartbeat(self, client_id: str, key_claims: dict[str, Any]) -> str:
        license_id, _, _ = client_id.partition(".")
        activation_id = hashlib.sha256(client_id.encode()).hexdigest()[:40]
        activation_key = {"license_id": {"S": license_id}, "activation_id": {"S": activation_id}}
        response = self.client.transact_get_items(
            TransactItems=[
                {"Get": {"TableName": self.tables.activations, "Key": activation_key}},
                {
                    "Get": {
                        "TableName": self.tables.licenses,
                        "Key": {"license_id": {"S": license_id}},
                    }
                },
            ]
        )
        activation = response["Responses"][0]["Item"]
        customer_id = response["Responses"][1]["Item"]["customer_id"]["S"]
        token = self._sign(
            self._machine_claims(key_claims, client_id, activation["machine_id"]["S"])
        )
        if "public_key" in activation:
            token = jwe_encrypt(
                token.encode("ascii"), key_from_jwk(json.loads(activation["public_key"]["S"]))
            )
        moment = datetime.now(UTC)
        self.client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": self.tables.licenses,
                        "Key": {"license_id": {"S": license_id}},
                        "ConditionExpression": "#s = :active AND expires_at > :now",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":active": {"S": "active"},
                            ":now": {"S": stamp(moment)},
                        },
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": self.tables.customers,
                        "Key": {"customer_id": {"S": customer_id}},
                        "ConditionExpression": "#s = :active",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":active": {"S": "active"}},
                    }
                },
                {
                    "Update": {
                        "TableName": self.tables.activations,
                        "Key": activation_key,
                        "UpdateExpression": "SET last_heartbeat_at = :now ADD heartbeats :one",
                        "ConditionExpression": "#s = :active AND last_heartbeat_at >= :since",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":now": {"S": stamp(moment)},
                            ":one": {"N": "1"},
                            ":active": {"S": "active"},
                            ":since": {"S": stamp(moment - timedelta(seconds=172_800))},
                        },
                    }
                },
            ]
        )
        return token
