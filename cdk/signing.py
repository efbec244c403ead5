"""The token-signing key: an asymmetric KMS key whose private half never leaves KMS."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct
from licensing_core.routes import KeyUse

_VERIFY_ACTIONS = ("kms:DescribeKey", "kms:GetPublicKey")


class SigningKey(Construct):
    """RSA-2048 sign/verify key for RS256 license and activation tokens.

    Retained on stack deletion: every token ever issued is verified with it.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description="Signs license keys and activation tokens (RS256)",
            key_spec=kms.KeySpec.RSA_2048,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            alias=f"alias/{Stack.of(self).stack_name}/token-signing",
            pending_window=Duration.days(30),
            removal_policy=RemovalPolicy.RETAIN,
        )

    def grant(self, grantee: iam.IGrantable, use: KeyUse) -> None:
        """Public-key access for ``verify``; that plus ``kms:Sign`` for ``sign``."""
        self.key.grant(grantee, *_VERIFY_ACTIONS)
        if use == "sign":
            self.key.grant(grantee, "kms:Sign")
