"""The token-signing key: a KMS key (new or existing) or an Azure Key Vault key.

Whatever the source, the private half never leaves its vault: functions ask it to
sign. ``kms:Sign`` (or the Azure credentials) go only to functions whose route says
``signing_key="sign"``; ``"verify"`` gets the public key only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from licensing_core.routes import KeyUse
from licensing_core.settings import PREFIX

_VERIFY_ACTIONS = ("kms:DescribeKey", "kms:GetPublicKey")
#: A complete secret ARN ends with ``-`` and six random characters.
_COMPLETE_SECRET_ARN = re.compile(
    r"^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:.+-[A-Za-z0-9]{6}$"
)
#: The variables the Azure signer's credential reads, all in the one secret (JSON).
AZURE_CREDENTIAL_KEYS = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")


@dataclass(frozen=True)
class NewKmsKey:
    """An RSA-2048 sign/verify KMS key created (and retained) with the stack."""

    alias: str | None = None


@dataclass(frozen=True)
class ExistingKmsKey:
    """A KMS key of the account (RSA_2048 or larger, SIGN_VERIFY), by ARN."""

    key_arn: str


@dataclass(frozen=True)
class AzureKeyVaultKey:
    """An Azure Key Vault RSA key; the credentials to reach it live in Secrets Manager.

    ``credentials_secret_arn``: the complete ARN of a JSON secret with
    ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID`` and ``AZURE_CLIENT_SECRET`` (a service
    principal allowed ``sign`` and ``get`` on the key). The functions get the ARN, never
    the values. ``credentials_key_arn``: the secret's customer-managed KMS key, if any.
    """

    key_id: str
    credentials_secret_arn: str
    credentials_key_arn: str | None = None


SigningKeySource = NewKmsKey | ExistingKmsKey | AzureKeyVaultKey


class SigningKey(Construct):
    """The configured signer: its environment for the functions, and its grants."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source: SigningKeySource = NewKmsKey(),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        self.source = source
        #: The KMS key (None with Azure Key Vault).
        self.key: kms.IKey | None = None
        self.credentials: secretsmanager.ISecret | None = None
        self._credentials_key: kms.IKey | None = None
        if isinstance(source, NewKmsKey):
            self.key = kms.Key(
                self,
                "Key",
                description="Signs license keys and activation tokens (RS256)",
                key_spec=kms.KeySpec.RSA_2048,
                key_usage=kms.KeyUsage.SIGN_VERIFY,
                alias=source.alias or f"alias/{Stack.of(self).stack_name}/token-signing",
                pending_window=Duration.days(30),
                # Every token ever issued is verified with it: retained unless told.
                removal_policy=removal_policy,
            )
        elif isinstance(source, ExistingKmsKey):
            self.key = kms.Key.from_key_arn(self, "Key", source.key_arn)
        else:
            arn = source.credentials_secret_arn
            if not Token.is_unresolved(arn) and not _COMPLETE_SECRET_ARN.match(arn):
                raise ValueError(
                    f"credentials_secret_arn must be a complete secret ARN (with its "
                    f"6-character suffix), not {arn!r}"
                )
            self.credentials = secretsmanager.Secret.from_secret_complete_arn(
                self, "AzureCredentials", arn
            )
            if source.credentials_key_arn:
                self._credentials_key = kms.Key.from_key_arn(
                    self, "AzureCredentialsKey", source.credentials_key_arn
                )

    def environment(self) -> dict[str, str]:
        """What every function needs to build the signer (not the credentials' ARN)."""
        if isinstance(self.source, AzureKeyVaultKey):
            return {f"{PREFIX}SIGNER": "azure", f"{PREFIX}AZURE_KEY_ID": self.source.key_id}
        assert self.key is not None
        return {f"{PREFIX}SIGNER": "kms", f"{PREFIX}KMS_KEY_ID": self.key.key_arn}

    def grant(self, grantee: iam.IGrantable, use: KeyUse) -> dict[str, str]:
        """Grant ``use`` of the key; return the extra environment that use needs.

        KMS: the public key for ``verify``, plus ``kms:Sign`` for ``sign``. Azure: both
        need the vault, so both read the credentials secret (and get its ARN).
        """
        if self.key is not None:
            self.key.grant(grantee, *_VERIFY_ACTIONS)
            if use == "sign":
                self.key.grant(grantee, "kms:Sign")
            return {}
        assert self.credentials is not None
        self.credentials.grant_read(grantee)
        if self._credentials_key is not None:
            self._credentials_key.grant_decrypt(grantee)
        return {f"{PREFIX}AZURE_CREDENTIALS_SECRET_ARN": self.credentials.secret_arn}
