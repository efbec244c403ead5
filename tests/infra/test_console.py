"""The web console in AWS: a private bucket behind CloudFront (origin access control,
HTTPS only, strict headers), its routes to the single page, a public Cognito client with
PKCE that the API accepts, the built files and ``config.json`` deployed from nested
stacks; without a build, a placeholder and a warning; without sign-in, no console."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest

from cdk.console import CONSOLE_DIR, DIST_DIR, IMMUTABLE, PLACEHOLDER
from tests.infra.cloud_assembly import CloudAssembly, file_tree, references, resolve


def nested(assembly: CloudAssembly, name: str) -> dict[str, Any]:
    """The template of the service's nested stack ``name`` (Console, ConsoleDeployment)."""
    pattern = re.compile(rf"{assembly.stack}Licensing{name}[0-9A-F]{{8}}\.nested\.template\.json")
    (path,) = [path for path in assembly.outdir.iterdir() if pattern.fullmatch(path.name)]
    template: dict[str, Any] = json.loads(path.read_text())
    return template


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


@pytest.fixture(scope="module")
def console(assembly: CloudAssembly) -> dict[str, Any]:
    return nested(assembly, "Console")


@pytest.fixture(scope="module")
def deployment(assembly: CloudAssembly) -> dict[str, Any]:
    return nested(assembly, "ConsoleDeployment")


def test_the_buckets_are_private_encrypted_and_refuse_plain_http(console: dict[str, Any]) -> None:
    buckets = of_type(console, "AWS::S3::Bucket")
    assert len(buckets) == 2  # the files, and the access logs of both
    for properties in buckets.values():
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (assets,) = [bucket_id for bucket_id, p in buckets.items() if "LoggingConfiguration" in p]
    policies = of_type(console, "AWS::S3::BucketPolicy")
    (policy,) = [p for p in policies.values() if p["Bucket"] == {"Ref": assets}]
    statements = policy["PolicyDocument"]["Statement"]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (read,) = [s for s in statements if s["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"  # objects only, by this distribution only
    (distribution,) = of_type(console, "AWS::CloudFront::Distribution")
    assert distribution in set(references(read["Condition"]))


def test_cloudfront_serves_https_only_through_origin_access_control(
    console: dict[str, Any],
) -> None:
    ((distribution_id, distribution),) = of_type(console, "AWS::CloudFront::Distribution").items()
    config = distribution["DistributionConfig"]
    (origin,) = config["Origins"]
    (control_id,) = set(references(origin["OriginAccessControlId"]))
    control = console["Resources"][control_id]["Properties"]["OriginAccessControlConfig"]
    assert control["OriginAccessControlOriginType"] == "s3"
    assert control["SigningBehavior"] == "always" and control["SigningProtocol"] == "sigv4"
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy identity
    behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert {b.get("PathPattern") for b in behaviors} == {None, "console/assets/*"}
    for behavior in behaviors:
        assert behavior["ViewerProtocolPolicy"] == "https-only"
        assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert config["Logging"]["Prefix"] == "cloudfront/"
    assert distribution_id


def _headers(console: dict[str, Any], policy_ref: Any) -> dict[str, Any]:
    (policy_id,) = set(references(policy_ref))
    config: dict[str, Any] = console["Resources"][policy_id]["Properties"][
        "ResponseHeadersPolicyConfig"
    ]
    return config


def test_every_answer_carries_the_strict_headers(console: dict[str, Any]) -> None:
    (distribution,) = of_type(console, "AWS::CloudFront::Distribution").values()
    config = distribution["DistributionConfig"]
    shared = json.loads((CONSOLE_DIR / "headers.json").read_text())["headers"]
    # What CloudFront has no security-header field for travels as custom headers.
    fields = {"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"}
    expected = {name: value for name, value in shared.items() if name not in fields}
    assert len(expected) == len(shared) - len(fields)
    cache = {}
    for behavior in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        headers = _headers(console, behavior["ResponseHeadersPolicyId"])
        security = headers["SecurityHeadersConfig"]
        csp = resolve(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
        for directive in ("default-src 'none'", "script-src 'self';", "style-src 'self';"):
            assert directive in csp
        assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "data:" not in csp
        # The API (any of the region's, see cdk/service.py) and Cognito's token endpoint.
        connect = csp.split("connect-src ")[1].split(";")[0].split()
        assert connect[0] == "'self'"
        assert connect[1] == "https://*.execute-api.<AWS::Region>.<AWS::URLSuffix>"
        assert connect[2].startswith("https://<referenceto") and connect[2].endswith(
            ".amazoncognito.com"
        )
        assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
        assert security["FrameOptions"]["FrameOption"] == "DENY"
        assert security["ContentTypeOptions"] == {"Override": True}
        assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
        custom = {h["Header"]: h["Value"] for h in headers["CustomHeadersConfig"]["Items"]}
        assert {name: custom[name] for name in expected} == expected
        cache[behavior.get("PathPattern")] = custom["Cache-Control"]
    assert cache == {None: "no-cache", "console/assets/*": IMMUTABLE}


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the CloudFront function")
def test_the_viewer_request_function_routes_the_single_page(console: dict[str, Any]) -> None:
    (function,) = of_type(console, "AWS::CloudFront::Function").values()
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    uris = [
        "/",
        "/console",
        "/console/",
        "/console/licenses/lic_1",
        "/console/callback",
        "/console/config.json",
        "/console/assets/main-AB12.js",
        "/console/favicon.svg",
    ]
    script = (
        function["FunctionCode"]
        + f"\nconsole.log(JSON.stringify({json.dumps(uris)}.map((uri) => handler("
        + "{request: {uri: uri, headers: {}}})).map((r) => r.statusCode ? "
        + "r.statusCode + ' ' + r.headers.location.value : r.uri)));"
    )
    answer = subprocess.run(  # noqa: S603
        ["node", "-e", script],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert json.loads(answer) == [
        "302 /console/",
        "302 /console/",
        "/console/index.html",
        "/console/index.html",
        "/console/index.html",
        "/console/config.json",
        "/console/assets/main-AB12.js",
        "/console/favicon.svg",
    ]


def console_client(assembly: CloudAssembly) -> tuple[str, dict[str, Any]]:
    """The console's Cognito client (beside the pool, in the service's stack)."""
    ((logical_id, properties),) = [
        (logical_id, resource["Properties"])
        for logical_id, resource in assembly.resources("AWS::Cognito::UserPoolClient").items()
        if resource["Properties"].get("ClientName") == "licensing-console"
    ]
    return logical_id, properties


def test_the_console_client_is_public_with_the_code_flow(assembly: CloudAssembly) -> None:
    _, client = console_client(assembly)
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"]
    assert client["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["UserPoolId"] == {"Ref": assembly.the("AWS::Cognito::UserPool")}
    (stack_id,) = [
        logical_id
        for logical_id in assembly.resources("AWS::CloudFormation::Stack")
        if "ConsoleNestedStack" in logical_id
    ]
    (callback,) = [resolve(url) for url in client["CallbackURLs"]]
    assert callback.startswith(f"https://<{stack_id}.Outputs.")
    assert callback.endswith("DomainName>/console/callback")
    (logout,) = [resolve(url) for url in client["LogoutURLs"]]
    assert logout == callback.removesuffix("callback")
    assert not any("PASSWORD" in flow for flow in client.get("ExplicitAuthFlows", []))


def test_the_api_accepts_the_console_and_registration_links_its_portal(
    assembly: CloudAssembly,
) -> None:
    client, _ = console_client(assembly)
    authorizer = assembly.properties(assembly.the("AWS::ApiGatewayV2::Authorizer"))
    audiences = [resolve(value) for value in authorizer["JwtConfiguration"]["Audience"]]
    assert audiences[-1] == f"<{client}>"
    register = assembly.function_of("GET /register")
    variables = assembly.environment(register)
    assert resolve(variables["LICENSING_PORTAL_URL"]).endswith("/console/portal/claim")
    assert resolve(variables["LICENSING_OIDC_AUDIENCES"]).split(",")[-1] == audiences[-1]
    api = assembly.properties(assembly.the("AWS::ApiGatewayV2::Api"))
    cors = api["CorsConfiguration"]
    assert "idempotency-key" in cors["AllowHeaders"] and "www-authenticate" in cors["ExposeHeaders"]
    assert cors["AllowOrigins"] == ["*"]  # the sample app's default; a list gets the console's
    assert resolve(assembly.template["Outputs"]["ConsoleUrl"]["Value"]).endswith("/console/")


def test_the_deployment_uploads_the_build_and_its_config(
    assembly: CloudAssembly, deployment: dict[str, Any]
) -> None:
    (upload,) = of_type(deployment, "Custom::CDKBucketDeployment").values()
    assert upload["DestinationBucketKeyPrefix"] == "console"
    assert upload["DistributionPaths"] == ["/*"]  # index.html and config.json change
    files = json.loads((assembly.outdir / f"{assembly.stack}.assets.json").read_text())["files"]
    app, config = (
        assembly.outdir / files[key.removesuffix(".zip")]["source"]["path"]
        for key in upload["SourceObjectKeys"]
    )
    if (DIST_DIR / "index.html").is_file():
        assert file_tree(app) == file_tree(DIST_DIR)  # the build, as make console left it
    else:
        assert (app / "index.html").read_text() == PLACEHOLDER
    # Deploy-time values (the API's URL, the client, Cognito's endpoints) are markers that
    # the deployment replaces; the rest is written as is.
    text = (config / "config.json").read_text()
    document = json.loads(re.sub(r"<<marker:0xbaba:(\d+)>>", r'"marker \1"', text))
    assert document["apiUrl"] == "marker 0"
    assert document["oidc"]["bearer"] == "id" and document["oidc"]["logout"] == "cognito"
    markers = upload["SourceMarkers"][1]
    values = {name: resolve(value) for name, value in markers.items()}
    assert "referencetoLicensingStackLicensingApiHttpApi" in values["<<marker:0xbaba:0>>"]
    token_marker = f"<<marker:0xbaba:{document['oidc']['tokenEndpoint'].split()[1]}>>"
    token_endpoint = json.loads(values[token_marker])  # a JSON string, quotes and all
    assert token_endpoint.startswith("https://<referenceto")
    assert token_endpoint.endswith(".auth.<AWS::Region>.amazoncognito.com/oauth2/token")


def test_without_a_build_a_placeholder_is_deployed_with_a_warning(variants: Any) -> None:
    (annotations,) = [
        report
        for report in variants.azure.validation_report["pluginReports"]
        if report["pluginName"] == "Construct Annotations"
    ]
    (warning,) = [
        v
        for v in annotations["violations"]
        if v["ruleName"] == "Annotation::licensing:console-not-built"
    ]
    assert warning["severity"] == "warning"  # the synth goes on
    assert "a placeholder page is deployed as the console" in warning["description"]
    (upload,) = of_type(
        nested(variants.azure, "ConsoleDeployment"), "Custom::CDKBucketDeployment"
    ).values()
    files = json.loads((variants.azure.outdir / "Azure.assets.json").read_text())["files"]
    app = (
        variants.azure.outdir
        / files[upload["SourceObjectKeys"][0].removesuffix(".zip")]["source"]["path"]
    )
    assert (app / "index.html").read_text() == PLACEHOLDER


def test_without_a_sign_in_the_console_is_left_out(variants: Any) -> None:
    for variant in (variants.oidc, variants.pool):
        assert not list(variant.outdir.glob(f"{variant.stack}*Console*.nested.template.json"))
        assert "ConsoleUrl" not in variant.template.get("Outputs", {})


def test_a_custom_domain_is_the_api_the_console_may_call(variants: Any) -> None:
    template = nested(variants.azure, "Console")
    (policy, _) = of_type(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
    csp = resolve(
        policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"][
            "ContentSecurityPolicy"
        ]
    )
    assert "connect-src 'self' https://licensing.example.com https://" in csp
    _, client = console_client(variants.azure)
    assert "http://localhost:5173/console/callback" in client["CallbackURLs"]


def test_the_build_is_ignored() -> None:
    ignored = (CONSOLE_DIR / ".gitignore").read_text().split()
    assert "dist/" in ignored and "node_modules/" in ignored


def test_context_console_false_leaves_it_out() -> None:
    from aws_cdk import App

    from cdk.app import props_from_context

    assert props_from_context(App(context={"console": "false"})).console is None
    assert props_from_context(App()).console is not None
