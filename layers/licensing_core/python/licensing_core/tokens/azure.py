"""The Azure Key Vault signer: RS256 signatures made inside the vault.

The vault signs a SHA-256 digest we compute (``RS256`` sign operation); only the
public part of the key (``n``, ``e``) ever crosses the wire. Key identifiers are
``https://<vault>.vault.azure.net/keys/<name>/<version>``; a versionless one is
resolved to the key's latest version once, and that version then both names the
``kid`` and signs, so the two never disagree after a rotation in the vault.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.policies import RetryPolicy
from azure.keyvault.keys import KeyClient, KeyType, KeyVaultKey, KeyVaultKeyIdentifier
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa

from licensing_core.domain.errors import Unavailable
from licensing_core.settings import ConfigurationError, get_settings
from licensing_core.tokens.signer import Signer

UNAVAILABLE = "the signing key vault is unavailable"
MIN_KEY_BITS = 2048
#: Pipeline defaults sized for a 10 s Lambda (the SDK's own: 10 retries, 300 s timeouts,
#: 7 days overall): one retry, short socket timeouts, 6 s across all attempts. Callers
#: override any of them, or pass their own ``retry_policy``, through ``client_kwargs``.
CLIENT_DEFAULTS: dict[str, Any] = {
    "retry_total": 1,
    "retry_backoff_factor": 0.2,
    "retry_backoff_max": 1,
    "connection_timeout": 2,
    "read_timeout": 3,
    "timeout": 6,
}
#: Longest wait a throttled vault's ``Retry-After`` may impose before the one retry.
MAX_RETRY_AFTER_SECONDS = 1.0
_TRANSIENT = (HttpResponseError, ServiceRequestError, ServiceResponseError)
_RSA_TYPES = frozenset({KeyType.rsa, KeyType.rsa_hsm})


class BoundedRetryPolicy(RetryPolicy):
    """The SDK's retry policy, but a ``Retry-After`` (Key Vault throttles with 429) is capped:
    a Lambda would rather fail fast with a 503 than sleep out its timeout."""

    def get_retry_after(self, response: PipelineResponse[Any, Any]) -> float | None:
        delay = super().get_retry_after(response)
        return None if delay is None else min(delay, MAX_RETRY_AFTER_SECONDS)


def default_credential() -> TokenCredential:
    """The Azure AD credential: from the Secrets Manager secret the stack names
    (``LICENSING_AZURE_CREDENTIALS_SECRET_ARN``: JSON with ``AZURE_TENANT_ID``,
    ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``), else from the environment or a managed
    identity; never an interactive login."""
    from azure.identity import ClientSecretCredential, DefaultAzureCredential

    secret_arn = get_settings().azure_credentials_secret_arn
    if secret_arn:
        from licensing_core.aws import client

        values = json.loads(
            client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
        )
        return ClientSecretCredential(
            values["AZURE_TENANT_ID"], values["AZURE_CLIENT_ID"], values["AZURE_CLIENT_SECRET"]
        )
    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def parse_key_id(key_ref: str) -> KeyVaultKeyIdentifier:
    """The parts of a Key Vault key identifier; :class:`ConfigurationError` when it is not one."""
    try:
        identifier = KeyVaultKeyIdentifier(key_ref)
    except ValueError as exc:
        raise ConfigurationError(f"{key_ref!r} is not a Key Vault key identifier") from exc
    parsed = urlparse(key_ref)
    if parsed.scheme != "https" or parsed.path.strip("/").split("/")[0] != "keys":
        raise ConfigurationError(
            f"{key_ref!r} is not a Key Vault key identifier (https://<vault>/keys/<name>[/<version>])"
        )
    return identifier


class AzureKeyVaultSigner(Signer):
    """An RSA key (``RSA`` or ``RSA-HSM``, 2048 bits or more) in Azure Key Vault or Managed HSM.

    Needs the ``keys/get`` and ``keys/sign`` permissions (RBAC: "Key Vault Crypto User").
    """

    def __init__(
        self,
        key_ref: str,
        previous_refs: Sequence[str] = (),
        *,
        credential: TokenCredential,
        **client_kwargs: Any,
    ) -> None:
        super().__init__(key_ref, previous_refs)
        self._ids = {ref: parse_key_id(ref) for ref in (key_ref, *self.previous_refs)}
        self._credential = credential
        self._client_kwargs = {**CLIENT_DEFAULTS, **client_kwargs}
        self._lock = threading.Lock()
        self._key_clients: dict[str, KeyClient] = {}
        self._keys: dict[str, KeyVaultKey] = {}
        self._crypto: CryptographyClient | None = None

    def public_key(self, key_ref: str) -> rsa.RSAPublicKey:
        key = self.vault_key(key_ref)
        # JsonWebKey sets its members dynamically: typed access goes through getattr.
        n: bytes | None = getattr(key.key, "n", None)
        e: bytes | None = getattr(key.key, "e", None)
        if key.key_type not in _RSA_TYPES or not n or not e:
            raise ConfigurationError(f"Key Vault key {key_ref} is {key.key_type}, not an RSA key")
        public = rsa.RSAPublicNumbers(
            int.from_bytes(e, "big"), int.from_bytes(n, "big")
        ).public_key()
        if public.key_size < MIN_KEY_BITS:
            raise ConfigurationError(f"Key Vault key {key_ref} has fewer than {MIN_KEY_BITS} bits")
        return public

    def sign(self, signing_input: bytes) -> bytes:
        digest = hashlib.sha256(signing_input).digest()
        client = self._signing_client()
        try:
            result = client.sign(SignatureAlgorithm.rs256, digest)
        except _TRANSIENT as exc:
            raise Unavailable(UNAVAILABLE) from exc
        return result.signature

    def vault_key(self, key_ref: str) -> KeyVaultKey:
        """The key ``key_ref`` names, fetched once (a versionless ref pins its latest version)."""
        with self._lock:
            key = self._keys.get(key_ref)
            if key is None:
                key = self._keys[key_ref] = self._fetch(key_ref)
            return key

    @property
    def signing_key_id(self) -> str:
        """The exact, versioned identifier of the key that signs."""
        key_id: str = self.vault_key(self.key_ref).id
        return key_id

    def _fetch(self, key_ref: str) -> KeyVaultKey:
        identifier = self._ids.get(key_ref) or parse_key_id(key_ref)
        client = self._key_clients.get(identifier.vault_url)
        if client is None:
            client = KeyClient(identifier.vault_url, self._credential, **self._options())
            self._key_clients[identifier.vault_url] = client
        try:
            return client.get_key(identifier.name, identifier.version)
        except ClientAuthenticationError as exc:
            raise ConfigurationError(
                f"cannot authenticate to read {key_ref}: {exc.message}"
            ) from exc
        except HttpResponseError as exc:
            if exc.status_code in (403, 404):
                raise ConfigurationError(
                    f"Key Vault key {key_ref} is missing or not readable ({exc.status_code})"
                ) from exc
            raise Unavailable(UNAVAILABLE) from exc
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise Unavailable(UNAVAILABLE) from exc

    def _signing_client(self) -> CryptographyClient:
        crypto = self._crypto
        if crypto is None:
            self.public_key(self.key_ref)  # refuse a non-RSA key before asking the vault to sign
            # Built from the fetched key itself: it carries the exact version behind
            # ``current``, and the client needs no second GET before its first remote sign.
            key = self.vault_key(self.key_ref)
            with self._lock:
                if self._crypto is None:
                    self._crypto = CryptographyClient(key, self._credential, **self._options())
                crypto = self._crypto
        return crypto

    def _options(self) -> dict[str, Any]:
        options = dict(self._client_kwargs)
        options.setdefault("retry_policy", BoundedRetryPolicy(**options))
        return options
