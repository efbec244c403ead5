"""Signers: where the private key of our tokens lives.

Every signer produces RSASSA-PKCS1-v1_5 SHA-256 signatures (JWS ``RS256``) over a
JWS signing input, and publishes the public keys that verify them, each under a
``kid`` equal to its RFC 7638 thumbprint. Callers never see a private key.
"""

from __future__ import annotations

import json
import os
import stat
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from licensing_core.domain.errors import Unavailable
from licensing_core.jose import b64url_encode, rsa_members
from licensing_core.settings import ConfigurationError, get_settings, per_settings

ALGORITHM = "RS256"
#: KMS signs at most 4 KiB with ``MessageType=RAW``.
KMS_MAX_MESSAGE_BYTES = 4096
#: KMS errors that pass (AWS says: retry); the caller gets a 503 and signs nothing.
KMS_TRANSIENT_ERRORS = frozenset(
    {
        "DependencyTimeoutException",
        "KMSInternalException",
        "KeyUnavailableException",
        "ThrottlingException",
    }
)
SIGNER_UNAVAILABLE = "the signing key is unavailable; retry shortly"


@dataclass(frozen=True)
class PublicKey:
    kid: str
    key: rsa.RSAPublicKey

    def to_jwk(self) -> dict[str, str]:
        """The public JWK: ``kty``, ``n``, ``e``, ``kid``, ``use``, ``alg``; nothing private."""
        members = _members(self.key)
        return {
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
            "n": members["n"],
            "e": members["e"],
        }


def thumbprint(key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): a stable, content-derived ``kid``.
    Computed here, not by jwcrypto, whose import costs every cold start that signs."""
    canonical = json.dumps(_members(key), separators=(",", ":"), sort_keys=True)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(canonical.encode("ascii"))
    return b64url_encode(digest.finalize())


def _members(key: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return rsa_members(numbers.n, numbers.e)


class Signer(ABC):
    """Signs with the current key; publishes the current and the previous public keys.

    ``key_ref`` names the current key in the signer's backend (a file path, a KMS key
    id, a Key Vault key id); ``previous_refs`` name retired keys whose tokens must
    still verify. Removing a ref from ``previous_refs`` retires it for good.
    """

    def __init__(self, key_ref: str, previous_refs: Sequence[str] = ()) -> None:
        self.key_ref = key_ref
        self.previous_refs = tuple(previous_refs)

    @abstractmethod
    def public_key(self, key_ref: str) -> rsa.RSAPublicKey:
        """The RSA public key of a key in this backend."""

    @abstractmethod
    def sign(self, signing_input: bytes) -> bytes:
        """An RS256 signature of ``signing_input`` by the current key."""

    @cached_property
    def current(self) -> PublicKey:
        """The key new tokens are signed with."""
        return _public(self.public_key(self.key_ref))

    @cached_property
    def published(self) -> tuple[PublicKey, ...]:
        """Every key a verifier should accept, the current one first."""
        keys = {self.current.kid: self.current}
        for ref in self.previous_refs:
            previous = _public(self.public_key(ref))
            keys.setdefault(previous.kid, previous)
        return tuple(keys.values())

    def verification_key(self, kid: str) -> rsa.RSAPublicKey | None:
        """The published key with this ``kid``, if any."""
        for key in self.published:
            if key.kid == kid:
                return key.key
        return None


def _public(key: rsa.RSAPublicKey) -> PublicKey:
    return PublicKey(thumbprint(key), key)


class PemSigner(Signer):
    """A local RSA key in a PEM file: for development and tests.

    The file is created (RSA-2048, mode 0600) when missing, and refused when other
    users can read it. Previous keys may be private or public PEM files.
    """

    def __init__(self, key_ref: str, previous_refs: Sequence[str] = ()) -> None:
        super().__init__(key_ref, previous_refs)
        self._private = _load_or_create_pem(Path(key_ref))

    def public_key(self, key_ref: str) -> rsa.RSAPublicKey:
        if key_ref == self.key_ref:
            return self._private.public_key()
        data = Path(key_ref).read_bytes()
        if b"PRIVATE KEY" in data:
            key: object = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            key = serialization.load_pem_public_key(data)
        if not isinstance(key, rsa.RSAPublicKey):
            raise ConfigurationError(f"{key_ref} is not an RSA key")
        return key

    def sign(self, signing_input: bytes) -> bytes:
        return self._private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())


class KmsSigner(Signer):
    """An AWS KMS asymmetric key (RSA_2048, SIGN_VERIFY): the private key never leaves KMS."""

    def __init__(self, key_ref: str, previous_refs: Sequence[str] = (), *, kms: Any) -> None:
        super().__init__(key_ref, previous_refs)
        self._kms = kms

    def public_key(self, key_ref: str) -> rsa.RSAPublicKey:
        der = self._kms.get_public_key(KeyId=key_ref)["PublicKey"]
        public = serialization.load_der_public_key(der)
        if not isinstance(public, rsa.RSAPublicKey):
            raise ConfigurationError(f"KMS key {key_ref} is not an RSA key")
        return public

    def sign(self, signing_input: bytes) -> bytes:
        from botocore import exceptions as aws  # loaded with the client already

        # RAW where KMS takes it (it hashes the message itself, and moto 5.2 mis-signs
        # DIGEST); a longer input (a status list) goes as its SHA-256 digest.
        message, message_type = signing_input, "RAW"
        if len(signing_input) > KMS_MAX_MESSAGE_BYTES:
            digest = hashes.Hash(hashes.SHA256())
            digest.update(signing_input)
            message, message_type = digest.finalize(), "DIGEST"
        try:
            response = self._kms.sign(
                KeyId=self.key_ref,
                Message=message,
                MessageType=message_type,
                SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256",
            )
        except aws.ClientError as error:
            if error.response.get("Error", {}).get("Code") not in KMS_TRANSIENT_ERRORS:
                raise  # a misconfiguration (a disabled or missing key, no permission)
            raise Unavailable(SIGNER_UNAVAILABLE, retryAfterSeconds=1) from error
        except (aws.ConnectionError, aws.HTTPClientError) as error:
            raise Unavailable(SIGNER_UNAVAILABLE, retryAfterSeconds=1) from error
        signature: bytes = response["Signature"]
        return signature


def _load_or_create_pem(path: Path) -> rsa.RSAPrivateKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use theirs
        else:
            with os.fdopen(fd, "wb") as file:
                file.write(pem)
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"{path} is readable by other users: chmod 600 it")
    # Our own key, in a file only we may read: cryptography's RSA consistency checks
    # (tens of milliseconds of a cold start) guard against keys from untrusted sources.
    loaded = serialization.load_pem_private_key(
        path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(loaded, rsa.RSAPrivateKey) or loaded.key_size < 2048:
        raise ConfigurationError(f"{path} must hold an RSA private key of 2048 bits or more")
    return loaded


@per_settings
def get_signer() -> Signer:
    """The signer the settings choose."""
    settings = get_settings()
    previous = settings.previous_signing_keys
    if settings.signer == "kms":
        if not settings.kms_key_id:
            raise ConfigurationError("LICENSING_KMS_KEY_ID is required with LICENSING_SIGNER=kms")
        from licensing_core.aws import client

        return KmsSigner(settings.kms_key_id, previous, kms=client("kms"))
    if settings.signer == "azure":
        if not settings.azure_key_id:
            raise ConfigurationError(
                "LICENSING_AZURE_KEY_ID is required with LICENSING_SIGNER=azure"
            )
        from licensing_core.tokens.azure import AzureKeyVaultSigner, default_credential

        return AzureKeyVaultSigner(settings.azure_key_id, previous, credential=default_credential())
    return PemSigner(settings.signing_key_path, previous)
