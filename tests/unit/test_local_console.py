"""The local server's console front (files, single-page fallback, headers) and its OIDC
front (discovery, authorization request checks, PKCE at the token endpoint, one-time
codes), without sockets: requests in, responses out."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from local.aws import IdentityProvider
from local.console import IMMUTABLE, ConsoleFront, console_config, security_headers
from local.gateway import HttpRequest, HttpResponse
from local.oidc import Client, OidcFront, _Grant
from local.state import Account
from local.totp import hotp, otpauth_uri, totp

SERVER = "http://127.0.0.1:8000"
CALLBACK = f"{SERVER}/console/callback"


def get(
    path: str, query: str = "", *, method: str = "GET", body: bytes | None = None, **headers: str
) -> HttpRequest:
    return HttpRequest(method, path, query, list(headers.items()), body, "127.0.0.1")


def header(response: HttpResponse, name: str) -> str | None:
    return next((value for key, value in response.headers if key.lower() == name), None)


# --- The console's files ----------------------------------------------------------------


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "assets" / "main-ABC123.js").write_text("console.log('x');" * 200)
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("no")
    return tmp_path


@pytest.fixture
def front(dist: Path) -> ConsoleFront:
    idp = IdentityProvider("pool", "client", {})
    return ConsoleFront(console_config(SERVER, idp), dist)


def test_app_routes_answer_the_single_page_with_the_headers(front: ConsoleFront) -> None:
    for path in ("/console/", "/console/licenses/lic_1", "/console/callback"):
        response = front(get(path))
        assert response.status == 200 and b"<title>console</title>" in response.body
        assert header(response, "cache-control") == "no-cache"
        csp = header(response, "content-security-policy") or ""
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert header(response, "x-content-type-options") == "nosniff"
    assert front(get("/console")).status == 308


def test_hashed_assets_are_cached_for_good_and_gzipped_on_request(front: ConsoleFront) -> None:
    plain = front(get("/console/assets/main-ABC123.js"))
    assert plain.status == 200 and header(plain, "cache-control") == IMMUTABLE
    assert header(plain, "content-type") == "text/javascript; charset=utf-8"
    zipped = front(get("/console/assets/main-ABC123.js", **{"Accept-Encoding": "gzip, br"}))
    assert header(zipped, "content-encoding") == "gzip"
    assert gzip.decompress(zipped.body) == plain.body
    assert front(get("/console/favicon.svg")).body == b"<svg/>"


def test_a_missing_asset_or_a_way_out_is_not_found(front: ConsoleFront) -> None:
    assert front(get("/console/assets/gone-XYZ.js")).status == 404
    for path in (
        "/console/../secret.txt",
        "/console/%2e%2e/secret.txt",
        "/console/.hidden",
        "/console/%ff",
    ):
        assert front(get(path)).status == 404, path
    assert front(get("/console/", method="POST")).status == 405


def test_config_names_this_server_and_its_sign_in(front: ConsoleFront) -> None:
    config = json.loads(front(get("/console/config.json")).body)
    assert config["apiUrl"] == SERVER
    assert config["oidc"]["discoveryUrl"] == f"{SERVER}/oidc/.well-known/openid-configuration"
    assert config["oidc"]["clientId"] == "client"


def test_without_a_build_the_console_says_how_to_make_one(tmp_path: Path) -> None:
    front = ConsoleFront({}, tmp_path / "missing")
    response = front(get("/console/licenses"))
    assert response.status == 503 and b"make console" in response.body


def test_connect_sources_are_added_to_the_policy() -> None:
    csp = dict(security_headers(["https://api.example.com"]))["content-security-policy"]
    assert "connect-src 'self' https://api.example.com;" in csp


# --- The OIDC front ------------------------------------------------------------------------

SECRET = base64.b32encode(b"12345678901234567890").decode()  # RFC 6238's SHA-1 seed


@pytest.fixture
def oidc() -> OidcFront:
    accounts = {"admin": Account("admin@example.com", "pw", ("license-admins",), SECRET)}
    idp = IdentityProvider("us-east-1_pool", "client", accounts)
    client = Client("client", frozenset({CALLBACK}), frozenset({f"{SERVER}/console/"}))
    return OidcFront(
        server_url=SERVER, aws_endpoint="http://moto", idp=idp, clients=[client], clock=lambda: 59.0
    )


def authorize_query(**overrides: str) -> str:
    params = {
        "response_type": "code",
        "client_id": "client",
        "redirect_uri": CALLBACK,
        "state": "s1",
        "nonce": "n1",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        **overrides,
    }
    return "&".join(f"{name}={value}" for name, value in params.items())


def test_discovery_names_the_pools_issuer_and_these_endpoints(oidc: OidcFront) -> None:
    document = json.loads(oidc(get("/oidc/.well-known/openid-configuration")).body)
    assert document["issuer"] == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
    assert document["authorization_endpoint"] == f"{SERVER}/oidc/authorize"
    assert document["code_challenge_methods_supported"] == ["S256"]


def test_an_unregistered_client_or_redirect_is_answered_here(oidc: OidcFront) -> None:
    for query in (
        authorize_query(client_id="other"),
        authorize_query(redirect_uri="https://evil.test/cb"),
    ):
        response = oidc(get("/oidc/authorize", query))
        assert response.status == 400 and header(response, "location") is None


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
    ],
)
def test_a_request_without_pkce_s256_goes_back_with_an_error(
    oidc: OidcFront, overrides: dict[str, str], error: str
) -> None:
    response = oidc(get("/oidc/authorize", authorize_query(**overrides)))
    location = urlsplit(header(response, "location") or "")
    assert (
        response.status == 303
        and f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    )
    assert parse_qs(location.query)["error"] == [error] and parse_qs(location.query)["state"] == [
        "s1"
    ]


def test_the_form_asks_for_a_one_time_code_only_when_mfa_is_asked(oidc: OidcFront) -> None:
    plain = oidc(get("/oidc/authorize", authorize_query()))
    assert plain.status == 200 and b'name="code"' not in plain.body
    assert b'autocomplete="current-password"' in plain.body
    mfa = oidc(
        get("/oidc/authorize", authorize_query(acr_values="mfa", login_hint="admin@example.com"))
    )
    assert b'autocomplete="one-time-code"' in mfa.body and b'value="admin@example.com"' in mfa.body
    csp = header(mfa, "content-security-policy") or ""
    assert "default-src 'none'" in csp and "script-src" not in csp


def _token(oidc: OidcFront, code: str, verifier: str, redirect_uri: str = CALLBACK) -> HttpResponse:
    body = f"grant_type=authorization_code&code={code}&client_id=client&redirect_uri={redirect_uri}&code_verifier={verifier}"
    return oidc(get("/oidc/token", method="POST", body=body.encode()))


def _grant(oidc: OidcFront, verifier: str) -> str:
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    oidc._grants["code-1"] = _Grant(
        "client", CALLBACK, challenge, {"access_token": "a", "id_token": "i"}
    )
    return "code-1"


def test_a_code_is_redeemed_once_with_its_verifier(oidc: OidcFront) -> None:
    verifier = "v" * 50
    code = _grant(oidc, verifier)
    answer = _token(oidc, code, verifier)
    assert answer.status == 200 and json.loads(answer.body)["access_token"] == "a"
    assert header(answer, "cache-control") == "no-store"
    again = _token(oidc, code, verifier)
    assert again.status == 400 and json.loads(again.body)["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("verifier", "redirect_uri"),
    [("w" * 50, CALLBACK), ("v" * 50, f"{SERVER}/other"), ("v" * 20, CALLBACK)],
)
def test_a_wrong_verifier_or_address_burns_the_code(
    oidc: OidcFront, verifier: str, redirect_uri: str
) -> None:
    code = _grant(oidc, "v" * 50)
    assert _token(oidc, code, verifier, redirect_uri).status == 400
    assert _token(oidc, code, "v" * 50).status == 400  # gone


def test_one_time_codes_follow_rfc_6238_and_count_once(oidc: OidcFront) -> None:
    assert totp(SECRET, 59) == "287082"  # RFC 6238 appendix B, truncated to 6 digits
    assert totp(SECRET, 1111111109) == "081804"
    admin = oidc.idp.accounts["admin"]
    assert not oidc._verify_totp(admin, "000000")
    assert oidc._verify_totp(admin, hotp(SECRET, 1))  # the current step (clock 59 s)
    assert not oidc._verify_totp(admin, hotp(SECRET, 1))  # not twice
    assert not oidc._verify_totp(admin, hotp(SECRET, 0))  # nor an earlier one after it
    assert otpauth_uri(SECRET, "admin@example.com").startswith(
        "otpauth://totp/Licensing%20local%3Aadmin%40example.com?secret="
    )


def test_sign_out_goes_back_only_where_the_client_registered(oidc: OidcFront) -> None:
    back = oidc(get("/oidc/logout", f"client_id=client&post_logout_redirect_uri={SERVER}/console/"))
    assert back.status == 303 and header(back, "location") == f"{SERVER}/console/"
    elsewhere = oidc(
        get("/oidc/logout", "client_id=client&post_logout_redirect_uri=https://evil.test/")
    )
    assert elsewhere.status == 200 and header(elsewhere, "location") is None


def test_an_expired_or_unknown_form_says_to_start_again(oidc: OidcFront) -> None:
    response = oidc(
        get("/oidc/authorize", method="POST", body=b"request=nope&username=a&password=b")
    )
    assert response.status == 400 and b"expired" in response.body


# --- Signing in against a (mocked) pool ------------------------------------------------


@pytest.fixture
def pool_front() -> Iterator[tuple[OidcFront, str]]:
    """An OIDC front over moto's Cognito (in process): the admin with MFA in a tenant, and
    an invited user who has not chosen a password yet."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool, ClientName="c", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        for username, attributes in (
            ("admin@example.com", [{"Name": "custom:tenant", "Value": "tnt_1"}]),
            ("invited@example.com", []),
        ):
            cognito.admin_create_user(
                UserPoolId=pool,
                Username=username,
                UserAttributes=[{"Name": "email", "Value": username}, *attributes],
                TemporaryPassword="Temporary-Passw0rd!",
                MessageAction="SUPPRESS",
            )
        cognito.admin_set_user_password(
            UserPoolId=pool,
            Username="admin@example.com",
            Password="Passw0rd!Passw0rd",
            Permanent=True,
        )
        accounts = {"admin": Account("admin@example.com", "Passw0rd!Passw0rd", (), SECRET)}
        idp = IdentityProvider(pool, client, accounts)
        registered = Client(client, frozenset({CALLBACK}), frozenset())
        front = OidcFront(
            server_url=SERVER,
            aws_endpoint="https://cognito-idp.us-east-1.amazonaws.com",
            idp=idp,
            clients=[registered],
            clock=lambda: 59.0,
        )
        yield front, client


def _sign_in(front: OidcFront, client: str, form: str, **query: str) -> HttpResponse:
    shown = front(get("/oidc/authorize", authorize_query(client_id=client, **query)))
    request_id = shown.body.decode().split('name="request" value="')[1].split('"')[0]
    return front(
        get("/oidc/authorize", method="POST", body=f"request={request_id}&{form}".encode())
    )


def test_an_mfa_sign_in_gives_the_pools_tokens_with_the_claims_of_a_step_up(
    pool_front: tuple[OidcFront, str],
) -> None:
    import jwt

    front, client = pool_front
    form = f"username=admin%40example.com&password=Passw0rd%21Passw0rd&code={hotp(SECRET, 1)}"
    answer = _sign_in(front, client, form, acr_values="mfa", nonce="n-42")
    location = urlsplit(header(answer, "location") or "")
    code = parse_qs(location.query)["code"][0]
    verifier = "v" * 43
    front._grants[code].challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    body = f"grant_type=authorization_code&code={code}&client_id={client}&redirect_uri={CALLBACK}&code_verifier={verifier}"
    tokens = json.loads(front(get("/oidc/token", method="POST", body=body.encode())).body)
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    identity = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert access["acr"] == "mfa" and access["amr"] == ["pwd", "mfa"] and access["auth_time"] == 59
    assert access["tenant"] == "tnt_1" and access["client_id"] == client
    assert identity["nonce"] == "n-42" and identity["email"] == "admin@example.com"
    assert identity["aud"] == client and identity["acr"] == "mfa"


def test_without_the_code_an_mfa_request_is_refused_on_the_form(
    pool_front: tuple[OidcFront, str],
) -> None:
    front, client = pool_front
    answer = _sign_in(
        front,
        client,
        "username=admin%40example.com&password=Passw0rd%21Passw0rd&code=000000",
        acr_values="mfa",
    )
    assert (
        answer.status == 401
        and b"Wrong or used code" in answer.body
        and header(answer, "location") is None
    )


def test_an_invited_account_that_has_no_password_yet_is_told_so(
    pool_front: tuple[OidcFront, str],
) -> None:
    front, client = pool_front
    answer = _sign_in(
        front, client, "username=invited%40example.com&password=Temporary-Passw0rd%21"
    )
    assert answer.status == 401 and b"must choose a new password" in answer.body
