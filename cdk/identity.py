"""The OIDC identity provider: a Cognito user pool for admins and end users."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct


class Identity(Construct):
    """Invite-only user pool (email sign-in, optional TOTP), the admin group, one app client.

    The app client serves the admin CLI and end users: public (no secret), password
    or SRP sign-in, no hosted OAuth flows. Its id is the audience the API accepts.
    """

    def __init__(self, scope: Construct, construct_id: str, *, admin_group: str) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,  # users are invited (POST /register) or created by admins
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Essentials: access-token customization (for step-up claims); no threat protection.
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.admin_group = cognito.UserPoolGroup(
            self,
            "AdminGroup",
            user_pool=self.user_pool,
            group_name=admin_group,
            description="License administrators: may call the admin API",
        )
        self.admin_group_name = admin_group
        self.client = self.user_pool.add_client(
            "AppClient",
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )

    @property
    def issuer(self) -> str:
        """The pool's OIDC issuer, ``https://cognito-idp.<region>.amazonaws.com/<poolId>``."""
        return f"https://{self.user_pool.user_pool_provider_url}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    @property
    def audiences(self) -> list[str]:
        """What a bearer's ``aud`` (ID token) or ``client_id`` (access token) must be."""
        return [self.client.user_pool_client_id]
