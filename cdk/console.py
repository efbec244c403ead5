"""The web console in AWS: its built files (``console/dist``) in a private S3 bucket
behind CloudFront (origin access control, HTTPS only, the console's security headers
with a strict Content-Security-Policy), a public Cognito app client for its sign-in
(authorization code with PKCE, no secret) and its ``config.json``.

Synth never builds the console (no npm at synth, and a deterministic assembly): when
``console/dist`` is missing, a placeholder page is deployed in its place and the synth
says so with a warning; ``make deploy`` builds it first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import Annotations, CfnParameter, CfnResource, Duration, NestedStack, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from cdk import nag
from cdk.identity import Identity
from cdk.paths import ROOT

CONSOLE_DIR = ROOT / "console"
#: Where ``make console`` builds the app.
DIST_DIR = CONSOLE_DIR / "dist"
#: The console's headers, shared with the local server (``local/console.py``).
HEADERS_FILE = CONSOLE_DIR / "headers.json"
#: The path the app lives under, locally and here.
BASE = "/console/"
SCOPES = ("openid", "email", "profile")
#: Served in place of the app when ``console/dist`` was not built before the synth.
PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Licensing console</title></head>
<body><main><h1>The console was not built</h1>
<p>This deployment was synthesized without <code>console/dist</code>. Run
<code>make console</code> (or <code>make deploy</code>, which builds it) and deploy again.</p>
</main></body></html>
"""
#: Rewrites app routes to the single page; ``/`` goes to the app (CloudFront Functions JS).
VIEWER_REQUEST = """function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === "/" || uri === "/console") {
    return { statusCode: 302, statusDescription: "Found",
             headers: { location: { value: "/console/" } } };
  }
  var last = uri.substring(uri.lastIndexOf("/") + 1);
  if (uri.indexOf("/console/") === 0 && last.indexOf(".") === -1) {
    request.uri = "/console/index.html";
  }
  return request;
}
"""
#: Hashed names: a changed file is a new URL.
IMMUTABLE = "public, max-age=31536000, immutable"
#: What cdk-nag flags on BucketDeployment's provider (CDK's own function), by resource
#: type: its managed policy, runtime, and the wildcards of the copy it makes.
PROVIDER_FINDINGS: dict[str, tuple[str, ...]] = {
    "AWS::IAM::Role": (
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]",
    ),
    "AWS::Lambda::Function": ("AwsSolutions-L1",),
    "AWS::IAM::Policy": tuple(
        f"AwsSolutions-IAM5[{finding}]"
        for finding in (
            "Resource::*",  # cloudfront:CreateInvalidation has no resource-level permission
            "Action::s3:GetBucket*",
            "Action::s3:GetObject*",
            "Action::s3:List*",
            "Action::s3:Abort*",
            "Action::s3:DeleteObject*",
            "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
            "<AWS::Region>/*",
            "Resource::<BucketArn>/*",
        )
    ),
}
_PROVIDER_TYPES = frozenset(PROVIDER_FINDINGS)


@dataclass(frozen=True)
class ExternalSignIn:
    """The console's sign-in at an OpenID provider this stack does not create: its public
    client (authorization code + PKCE, callback ``https://<console>/console/callback``)
    and, when the provider has no discovery document the browser may read, its
    endpoints. ``connect_sources``: origins the console's CSP lets it call (the token
    endpoint's, the discovery document's)."""

    client_id: str
    issuer: str
    connect_sources: tuple[str, ...]
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    end_session_endpoint: str | None = None
    #: Which token the API gets: ``access`` (OAuth's way) or ``id``.
    bearer: str = "access"


@dataclass(frozen=True)
class ConsoleProps:
    """The console's deployment; ``LicensingServiceProps(console=None)`` leaves it out."""

    #: The built app (``make console``); a placeholder is deployed when it is missing.
    assets_dir: Path = DIST_DIR
    #: Required unless the stack creates the user pool (its console client is made here).
    sign_in: ExternalSignIn | None = None
    #: Extra callback/sign-out origins for the Cognito client, e.g. ``http://localhost:5173``.
    extra_origins: Sequence[str] = field(default_factory=tuple)
    price_class: cloudfront.PriceClass = cloudfront.PriceClass.PRICE_CLASS_100


def csp(connect: Sequence[str]) -> str:
    """The console's Content-Security-Policy, allowing calls to ``connect`` origins."""
    policy: str = json.loads(HEADERS_FILE.read_text(encoding="utf-8"))["contentSecurityPolicy"]
    return policy.replace("{connect}", " ".join(connect))


def _custom_headers() -> dict[str, str]:
    """The headers of ``headers.json`` CloudFront has no security-header field for."""
    headers: dict[str, str] = json.loads(HEADERS_FILE.read_text(encoding="utf-8"))["headers"]
    covered = {"x-content-type-options", "x-frame-options", "referrer-policy"}
    return {name: value for name, value in headers.items() if name.lower() not in covered}


class Console(NestedStack):
    """Bucket and distribution of the console, in a nested stack of their own (the
    service's stack stays under CloudFormation's resource limit, and its functions are
    the route table's), the deployment of the files in another, and its Cognito client
    beside the pool's others.

    Create it before the API and the functions (:attr:`client_id` is an audience of both)
    and :meth:`deploy` once the API's URL exists (``config.json`` names it).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: ConsoleProps,
        identity: Identity,
        api_origins: Sequence[str],
    ) -> None:
        super().__init__(
            scope, construct_id, description="Licensing console: S3, CloudFront, sign-in"
        )
        self.props = props
        self.identity = identity
        self._parent = scope
        self.logs = self._private_bucket(
            "Logs",
            # CloudFront standard logs are delivered with object ACLs.
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
        )
        self.bucket = self._private_bucket(
            "Assets", server_access_logs_bucket=self.logs, server_access_logs_prefix="s3/"
        )
        connect = [*api_origins, *self._sign_in_origins(props.sign_in)]
        #: The single page and config.json: revalidated on every visit.
        self.headers = self._headers("Headers", connect, "no-cache")
        #: Hashed assets: cached for good.
        self.asset_headers = self._headers("AssetHeaders", connect, IMMUTABLE)
        origin = origins.S3BucketOrigin.with_origin_access_control(self.bucket)

        def behavior(
            headers: cloudfront.IResponseHeadersPolicy, **options: Any
        ) -> cloudfront.BehaviorOptions:
            return cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
                **options,
            )

        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Licensing console",
            default_behavior=behavior(
                self.headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                        function=cloudfront.Function(
                            self,
                            "Routes",
                            comment="Console routes to the single page",
                            code=cloudfront.FunctionCode.from_inline(VIEWER_REQUEST),
                            runtime=cloudfront.FunctionRuntime.JS_2_0,
                        ),
                    )
                ],
            ),
            additional_behaviors={f"{BASE.strip('/')}/assets/*": behavior(self.asset_headers)},
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=props.price_class,
            enable_logging=True,
            log_bucket=self.logs,
            log_file_prefix="cloudfront/",
        )
        distribution = nag.default_child(self.distribution)
        for rule in ("AwsSolutions-CFR1", "AwsSolutions-CFR2", "AwsSolutions-CFR4"):
            nag.acknowledge(distribution, rule)
        #: ``https://<distribution domain>``: the console's origin.
        self.origin = f"https://{self.distribution.distribution_domain_name}"
        self.url = f"{self.origin}{BASE}"
        self.client: cognito.UserPoolClient | None = None
        self.client_id = self._client(props)

    def _private_bucket(self, construct_id: str, **options: Any) -> s3.Bucket:
        """No public access, encrypted, TLS only, kept when the stack goes."""
        return s3.Bucket(
            self,
            construct_id,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            **options,
        )

    def _headers(
        self, construct_id: str, connect: Sequence[str], cache_control: str
    ) -> cloudfront.ResponseHeadersPolicy:
        """The console's security headers (``headers.json``), and ``Cache-Control``."""
        custom = {**_custom_headers(), "Cache-Control": cache_control}
        return cloudfront.ResponseHeadersPolicy(
            self,
            construct_id,
            comment=f"Licensing console: strict CSP, security headers, {cache_control}",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=csp(connect), override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730),
                    include_subdomains=True,
                    override=True,
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(header=name, value=value, override=True)
                    for name, value in custom.items()
                ]
            ),
        )

    def _sign_in_origins(self, sign_in: ExternalSignIn | None) -> list[str]:
        if sign_in is not None:
            return list(sign_in.connect_sources)
        if self.identity.domain is not None:
            return [self.identity.domain.base_url()]
        return []

    def _client(self, props: ConsoleProps) -> str:
        if props.sign_in is not None:
            return props.sign_in.client_id
        pool = self.identity.created_pool
        if pool is None:
            raise ValueError(
                "the console signs in with ExternalSignIn or a pool this stack creates"
            )
        origins_ = [self.origin, *props.extra_origins]
        # With the pool and its other clients, in the service's stack.
        self.client = pool.add_client(
            "ConsoleClient",
            user_pool_client_name="licensing-console",
            generate_secret=False,  # a public client: the browser holds no secret (PKCE)
            auth_flows=cognito.AuthFlow(),  # managed login only, no password API
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[
                    cognito.OAuthScope.OPENID,
                    cognito.OAuthScope.EMAIL,
                    cognito.OAuthScope.PROFILE,
                ],
                callback_urls=[f"{origin}{BASE}callback" for origin in origins_],
                logout_urls=[f"{origin}{BASE}" for origin in origins_],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
        )
        return self.client.user_pool_client_id

    def config(self, api_url: str) -> dict[str, object]:
        """``config.json``: the API and the sign-in (see console/src/config.ts)."""
        sign_in = self.props.sign_in
        if sign_in is not None:
            oidc: dict[str, object] = {
                "issuer": sign_in.issuer,
                "clientId": sign_in.client_id,
                "scope": " ".join(SCOPES),
                "logout": "oidc",
                "bearer": sign_in.bearer,
            }
            for key, value in (
                ("authorizationEndpoint", sign_in.authorization_endpoint),
                ("tokenEndpoint", sign_in.token_endpoint),
                ("endSessionEndpoint", sign_in.end_session_endpoint),
            ):
                if value is not None:
                    oidc[key] = value
        else:
            domain = self.identity.domain.base_url() if self.identity.domain else ""
            oidc = {
                "issuer": self.identity.issuer,
                "clientId": self.client_id,
                "scope": " ".join(SCOPES),
                "authorizationEndpoint": f"{domain}/oauth2/authorize",
                "tokenEndpoint": f"{domain}/oauth2/token",
                "endSessionEndpoint": f"{domain}/logout",
                "logout": "cognito",
                # Cognito puts custom:tenant (and a trigger's acr/amr) in ID tokens.
                "bearer": "id",
            }
        return {"apiUrl": api_url, "oidc": oidc}

    def deploy(self, api_url: str) -> NestedStack:
        """Upload the app and its ``config.json`` and invalidate what CloudFront cached, from
        a nested stack beside this one (it needs the API, which needs this one)."""
        stack = NestedStack(
            self._parent,
            f"{self.node.id}Deployment",
            description="Licensing console: files",
            # Named parameters, so that the provider's policy names them (cdk-nag findings).
            parameters={
                "BucketArn": self.bucket.bucket_arn,
                "BucketName": self.bucket.bucket_name,
                "DistributionId": self.distribution.distribution_id,
                "DistributionDomainName": self.distribution.distribution_domain_name,
            },
        )
        parameter = {
            name: CfnParameter(stack, name, type="String").value_as_string
            for name in ("BucketArn", "BucketName", "DistributionId", "DistributionDomainName")
        }
        sources = [
            self._app_source(),
            s3deploy.Source.json_data("config.json", self.config(api_url)),
        ]
        s3deploy.BucketDeployment(
            stack,
            "Files",
            sources=sources,
            destination_bucket=s3.Bucket.from_bucket_attributes(
                stack,
                "Bucket",
                bucket_arn=parameter["BucketArn"],
                bucket_name=parameter["BucketName"],
            ),
            destination_key_prefix=BASE.strip("/"),
            distribution=cloudfront.Distribution.from_distribution_attributes(
                stack,
                "Distribution",
                distribution_id=parameter["DistributionId"],
                domain_name=parameter["DistributionDomainName"],
            ),
            distribution_paths=["/*"],
            memory_limit=256,
        )
        # CDK's provider function (a singleton of the stack): its role, policy and runtime.
        for child in stack.node.find_all():
            if isinstance(child, CfnResource) and child.cfn_resource_type in _PROVIDER_TYPES:
                for rule in PROVIDER_FINDINGS[child.cfn_resource_type]:
                    nag.acknowledge(child, rule, nag.REASONS["deployment"])
        return stack

    def _app_source(self) -> s3deploy.ISource:
        assets = self.props.assets_dir
        if (assets / "index.html").is_file():
            return s3deploy.Source.asset(str(assets))
        Annotations.of(self).add_warning_v2(
            "licensing:console-not-built",
            f"{assets} is missing: a placeholder page is deployed as the console; run "
            "`make console` (or `make deploy`) and deploy again",
        )
        return s3deploy.Source.data("index.html", PLACEHOLDER)
