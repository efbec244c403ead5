"""Discovery: the public keys and the configuration document clients start from."""

from __future__ import annotations

from licensing_core import schemas
from licensing_core.domain.licenses import ACTIVATION_TOKEN_TYPE, LICENSE_TOKEN_TYPE
from licensing_core.domain.offline import MACHINE_FILE_TYPE
from licensing_core.settings import get_settings
from licensing_core.tokens.jwe import CONTENT_ALGORITHM, KEY_ALGORITHM
from licensing_core.tokens.signer import ALGORITHM, get_signer


def jwks() -> schemas.JwkSet:
    return schemas.JwkSet.model_validate({"keys": [key.to_jwk() for key in get_signer().published]})


def license_configuration(base_url: str) -> schemas.LicenseConfiguration:
    return schemas.LicenseConfiguration(
        issuer=get_settings().issuer,
        jwks_uri=f"{base_url}/.well-known/jwks.json",
        validate_endpoint=f"{base_url}/license-keys/validate",
        activation_endpoint=f"{base_url}/license-activations/activate",
        deactivation_endpoint=f"{base_url}/license-activations/deactivate",
        heartbeat_endpoint=f"{base_url}/license-keys/heartbeat",
        openapi_uri=f"{base_url}/openapi.json",
        checkout_endpoint=f"{base_url}/license-activations/checkout",
        borrow_endpoint=f"{base_url}/license-activations/borrow",
        return_endpoint=f"{base_url}/license-activations/return",
        offline_activation_endpoint=f"{base_url}/license-activations/offline",
        offline_deactivation_endpoint=f"{base_url}/license-activations/offline-deactivate",
        token_signing_alg_values_supported=[ALGORITHM],
        token_encryption_alg_values_supported=[KEY_ALGORITHM],
        token_encryption_enc_values_supported=[CONTENT_ALGORITHM],
        token_types_supported=[LICENSE_TOKEN_TYPE, ACTIVATION_TOKEN_TYPE, MACHINE_FILE_TYPE],
    )
