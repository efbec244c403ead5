"""The licensing stack: tables, identity, signing key, layers, functions and the API.

Environment-agnostic (no account, region or lookups): synth needs no AWS credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct
from licensing_core.routes import ROUTES, Route
from licensing_core.settings import PREFIX, Settings

from cdk.api import Api
from cdk.functions import Functions
from cdk.identity import Identity
from cdk.layers import Layers
from cdk.signing import SigningKey
from cdk.tables import Tables, pascal

SERVICE_NAME = "licensing"
#: The group whose members may call the admin API: the settings' own default.
ADMIN_GROUP: str = Settings.model_fields["admin_group"].default


class LicensingStack(Stack):
    """Everything the service needs in one account and region.

    ``issuer`` is the ``iss`` of the tokens this service signs. It cannot default to
    the API's URL (the functions would depend on the API that depends on them), so
    it defaults to ``urn:licensing:<stack name>``: stable across deployments of the
    same stack, distinct between stacks. Pass the public URL (or any stable URI)
    through the ``issuer`` context value to change it; changing it later
    invalidates every issued token.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        issuer: str | None = None,
        cors_origins: Sequence[str] = ("*",),
        log_level: str = "INFO",
        routes: Sequence[Route] = ROUTES,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.issuer = issuer or f"urn:licensing:{self.stack_name}"
        self.tables = Tables(self, "Tables")
        self.identity = Identity(self, "Identity", admin_group=ADMIN_GROUP)
        self.signing_key = SigningKey(self, "Signing")
        self.layers = Layers(self, "Layers")
        self.functions = Functions(
            self,
            "Functions",
            routes=routes,
            layers=self.layers.all,
            environment=self._environment(log_level),
            tables=self.tables,
            signing_key=self.signing_key,
        )
        self.api = Api(
            self,
            "Api",
            routes=routes,
            functions=self.functions.by_function,
            identity=self.identity,
            cors_origins=cors_origins,
        )
        self._outputs()

    def _environment(self, log_level: str) -> dict[str, str]:
        """What :meth:`licensing_core.settings.Settings.from_env` reads, for every function."""
        return {
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_LOG_LEVEL": log_level,
            f"{PREFIX}ISSUER": self.issuer,
            f"{PREFIX}OIDC_ISSUER": self.identity.issuer,
            f"{PREFIX}OIDC_JWKS_URL": self.identity.jwks_url,
            f"{PREFIX}OIDC_AUDIENCES": ",".join(self.identity.audiences),
            f"{PREFIX}ADMIN_GROUP": self.identity.admin_group_name,
            f"{PREFIX}SIGNER": "kms",
            f"{PREFIX}KMS_KEY_ID": self.signing_key.key.key_arn,
            **self.tables.environment(),
        }

    def _outputs(self) -> None:
        outputs = {
            "ApiUrl": (self.api.stage.url, "Base URL of the HTTP API"),
            "Issuer": (self.issuer, "iss of the tokens this service signs"),
            "OidcIssuer": (self.identity.issuer, "Issuer of admin and end-user bearer tokens"),
            "UserPoolId": (self.identity.user_pool.user_pool_id, "Cognito user pool"),
            "UserPoolClientId": (
                self.identity.client.user_pool_client_id,
                "App client for the admin CLI and end users",
            ),
            "SigningKeyId": (self.signing_key.key.key_id, "KMS key that signs tokens"),
            **{
                f"{pascal(name)}TableName": (table.table_name, f"DynamoDB table '{name}'")
                for name, table in self.tables.by_name.items()
            },
        }
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)
