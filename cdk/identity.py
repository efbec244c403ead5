"""The OIDC identity provider the API trusts: a new Cognito user pool, an existing one,
or any OIDC issuer with a JWKS.

A new pool is invite-only unless told otherwise (email sign-in, optional TOTP), with the
``license-admins`` and ``tenant-admins`` groups, a ``custom:tenant`` attribute (the
tenant claim of ID tokens; only administrators can write it) and two app clients: a
public one for the admin CLI and end users (password and SRP sign-in), and a
confidential machine client for service accounts (OAuth client credentials, scopes of
the ``licensing`` resource server, token endpoint on the pool's Cognito domain).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from licensing_core.settings import Settings

from cdk import nag

#: Members may call the admin API: the settings' own default.
ADMIN_GROUP: str = Settings().admin_group
#: Members administer the identities and licenses of their own tenant.
TENANT_ADMIN_GROUP = "tenant-admins"
_READ = ("cognito-idp:ListUsers", "cognito-idp:AdminGetUser")
_MANAGE = ("cognito-idp:AdminDisableUser", "cognito-idp:AdminEnableUser")
#: What a function may do in the pool, by its declared use of the identity provider.
IDENTITY_PROVIDER_ACTIONS: dict[str, tuple[str, ...]] = {
    "read": _READ,
    "invite": (*_READ, "cognito-idp:AdminCreateUser"),
    "manage": (*_READ, *_MANAGE),
    "admin": (*_READ, "cognito-idp:AdminCreateUser", *_MANAGE),
}
#: Everything any function may do in the pool (``admin``), and nothing else.
IDENTITY_ADMIN_ACTIONS = IDENTITY_PROVIDER_ACTIONS["admin"]
#: The custom attribute naming a person's tenant (``custom:tenant`` in ID tokens).
TENANT_ATTRIBUTE = "tenant"
RESOURCE_SERVER = "licensing"
#: Scopes a service account's access token may carry (``licensing/<scope>``).
MACHINE_SCOPES = {
    "admin": "Call the admin API as a service account",
    "read": "Read the catalog, identities and licenses",
}


@dataclass(frozen=True)
class NewUserPool:
    """A Cognito user pool created with the stack.

    ``domain_prefix``: of the hosted Cognito domain that serves the machine client's
    token endpoint; default ``<stack name>-<account id>``, lower-cased.
    ``self_sign_up``: people may sign up themselves (confirming their email); each
    confirmed account gets its identity, and its license when its tenant's
    provisioning policy names one (the post-confirmation trigger). Default: invite-only.
    """

    domain_prefix: str | None = None
    self_sign_up: bool = False


@dataclass(frozen=True)
class ExistingUserPool:
    """A Cognito user pool of the account, and the app clients whose tokens the API accepts."""

    user_pool_id: str
    client_ids: tuple[str, ...]
    #: The pool's region; default: the stack's.
    region: str | None = None


@dataclass(frozen=True)
class OidcIssuer:
    """Any OIDC provider: tokens with this ``iss``, signed by keys at ``jwks_url``, with one
    of ``audiences`` as ``aud`` (or ``client_id``)."""

    issuer: str
    jwks_url: str
    audiences: tuple[str, ...]


IdentitySource = NewUserPool | ExistingUserPool | OidcIssuer


class Identity(Construct):
    """Issuer, JWKS and audiences for the API's JWT authorizer and the functions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source: IdentitySource = NewUserPool(),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        self.source = source
        self.admin_group_name = ADMIN_GROUP
        #: The Cognito pool, when there is one (None for another OIDC issuer).
        self.user_pool: cognito.IUserPool | None = None
        #: Set for a pool this stack creates.
        self.created_pool: cognito.UserPool | None = None
        self.client: cognito.UserPoolClient | None = None
        self.machine_client: cognito.UserPoolClient | None = None
        self.domain: cognito.UserPoolDomain | None = None
        self.groups: dict[str, cognito.UserPoolGroup] = {}
        #: ``iss`` of accepted bearer tokens.
        self.issuer: str
        #: Accepted ``aud`` (ID tokens) or ``client_id`` (access tokens).
        self.audiences: list[str]
        if isinstance(source, NewUserPool):
            pool = self._new_pool(source, removal_policy)
            assert self.client is not None and self.machine_client is not None
            self.issuer = f"https://{pool.user_pool_provider_url}"
            self.audiences = [
                self.client.user_pool_client_id,
                self.machine_client.user_pool_client_id,
            ]
        elif isinstance(source, ExistingUserPool):
            if not source.client_ids:
                raise ValueError("an existing user pool needs the client ids the API accepts")
            region = source.region or Aws.REGION
            arn = Stack.of(self).format_arn(
                service="cognito-idp",
                region=region,
                resource="userpool",
                resource_name=source.user_pool_id,
            )
            self.user_pool = cognito.UserPool.from_user_pool_arn(self, "UserPool", arn)
            self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{source.user_pool_id}"
            self.audiences = list(source.client_ids)
        else:
            if not source.audiences:
                raise ValueError("an OIDC issuer needs at least one audience")
            self.issuer = source.issuer.rstrip("/")
            self.audiences = list(source.audiences)
        self.jwks_url = (
            source.jwks_url
            if isinstance(source, OidcIssuer)
            else f"{self.issuer}/.well-known/jwks.json"
        )

    @property
    def user_pool_id(self) -> str | None:
        return None if self.user_pool is None else self.user_pool.user_pool_id

    def grant_provider(self, grantee: iam.IGrantable, use: str) -> bool:
        """Let ``grantee`` use the pool as ``use`` says (a key of ``IDENTITY_PROVIDER_ACTIONS``);
        False when there is no Cognito pool."""
        if use not in IDENTITY_PROVIDER_ACTIONS:
            raise ValueError(f"unknown identity provider use {use!r}")
        if self.user_pool is None:
            return False
        self.user_pool.grant(grantee, *IDENTITY_PROVIDER_ACTIONS[use])
        return True

    def add_trigger(self, operation: str, function: lambda_.IFunction) -> bool:
        """Wire a Lambda trigger; False unless the pool is created by this stack."""
        if self.created_pool is None:
            return False
        self.created_pool.add_trigger(
            getattr(cognito.UserPoolOperation, operation.upper()), function
        )
        return True

    def _new_pool(self, source: NewUserPool, removal_policy: RemovalPolicy) -> cognito.UserPool:
        retain = removal_policy == RemovalPolicy.RETAIN
        pool = cognito.UserPool(
            self,
            "UserPool",
            # Invited (POST /register) or created by admins, unless self sign-up is on.
            self_sign_up_enabled=source.self_sign_up,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            custom_attributes={
                TENANT_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=128, mutable=True)
            },
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
            deletion_protection=retain,
            removal_policy=removal_policy,
        )
        nag.acknowledge(nag.default_child(pool), "AwsSolutions-COG2")
        nag.acknowledge(nag.default_child(pool), "AwsSolutions-COG8")
        self.user_pool = self.created_pool = pool
        for precedence, (name, description) in enumerate(
            (
                (ADMIN_GROUP, "License administrators: may call the admin API"),
                (TENANT_ADMIN_GROUP, "Tenant administrators: manage their own tenant"),
            )
        ):
            self.groups[name] = cognito.UserPoolGroup(
                self,
                "AdminGroup" if name == ADMIN_GROUP else "TenantAdminGroup",
                user_pool=pool,
                group_name=name,
                description=description,
                precedence=precedence * 10,
            )
        self.client = pool.add_client(
            "AppClient",
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            # Never the tenant: a person who could write it would choose their tenant.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(
                email=True, fullname=True
            ),
            generate_secret=False,
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )
        self.resource_server = pool.add_resource_server(
            "ResourceServer",
            identifier=RESOURCE_SERVER,
            scopes=[
                cognito.ResourceServerScope(scope_name=name, scope_description=description)
                for name, description in MACHINE_SCOPES.items()
            ],
        )
        self.machine_client = pool.add_client(
            "MachineClient",
            generate_secret=True,  # confidential: the service account's credential
            auth_flows=cognito.AuthFlow(),  # no user sign-in at all
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=_scopes(self.resource_server, MACHINE_SCOPES),
            ),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
        )
        stack = Stack.of(self)
        prefix = source.domain_prefix or f"{stack.stack_name.lower()}-{stack.account}"
        self.domain = pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix)
        )
        return pool

    @property
    def token_endpoint(self) -> str | None:
        """Where service accounts exchange client credentials for an access token."""
        if self.domain is None:
            return None
        return f"{self.domain.base_url()}/oauth2/token"


def _scopes(
    server: cognito.UserPoolResourceServer, scopes: dict[str, str]
) -> Sequence[cognito.OAuthScope]:
    return [
        cognito.OAuthScope.resource_server(
            server, cognito.ResourceServerScope(scope_name=name, scope_description=description)
        )
        for name, description in scopes.items()
    ]
