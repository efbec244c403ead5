"""A small OpenID Connect front for the embedded Cognito pool, under ``/oidc``.

moto's Cognito has no hosted UI: no authorization endpoint, no token endpoint for
users. The console signs in with the authorization code flow and PKCE wherever it
runs, so locally this module plays Cognito's managed login: a discovery document, an
accessible sign-in form (with a one-time-code field when the request's ``acr_values``
asks for MFA), and a token endpoint that checks the PKCE verifier and returns the
pool's own tokens (``AdminInitiateAuth``), re-signed with moto's pool key so the API
verifies them. What a pre-token-generation trigger adds in AWS is added here: a fresh
``auth_time``, ``acr``/``amr`` after a verified MFA code (moto checks no TOTP code, so
this module does: :mod:`local.totp`), the ``tenant`` of a tenant administrator from its
``custom:tenant`` attribute, and in the ID token the ``nonce``, ``email`` and
``email_verified``. Development only: it trusts its loopback clients, as the whole
local server does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from botocore.exceptions import ClientError

from local.aws import IdentityProvider, cognito_client, resigned, with_mfa
from local.gateway import HttpRequest, HttpResponse
from local.state import Account
from local.totp import DIGITS, STEP, hotp

PREFIX = "/oidc"
#: acr values a password alone satisfies; anything else asks for the one-time code.
PASSWORD_LEVEL = frozenset({"pwd", "0", "1"})
AUTHORIZATION_TTL = 600.0  #: seconds a sign-in form stays valid
CODE_TTL = 60.0  #: seconds an authorization code stays redeemable
_MAX_PENDING = 1000


# --- The flow --------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    """A registered public client: where codes and sign-outs may go back to."""

    client_id: str
    redirect_uris: frozenset[str]
    logout_uris: frozenset[str]


@dataclass
class _Authorization:
    client: Client
    redirect_uri: str
    state: str | None
    nonce: str | None
    challenge: str
    scope: str
    mfa: bool
    login_hint: str
    created: float = field(default_factory=time.monotonic)


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    tokens: dict[str, Any]
    created: float = field(default_factory=time.monotonic)


class _Refusal(Exception):
    """The sign-in form answers again, with this message."""

    def __init__(self, message: str, field_name: str) -> None:
        super().__init__(message)
        self.field_name = field_name


class OidcFront:
    """Answers the discovery, authorization, token and logout endpoints under ``/oidc``."""

    def __init__(
        self,
        *,
        server_url: str,
        aws_endpoint: str,
        idp: IdentityProvider,
        clients: list[Client],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.server_url = server_url
        self.aws_endpoint = aws_endpoint
        self.idp = idp
        self.clients = {client.client_id: client for client in clients}
        self.accounts: Mapping[str, Account] = {
            account.username.lower(): account for account in idp.accounts.values()
        }
        self.clock = clock
        self._pending: dict[str, _Authorization] = {}
        self._grants: dict[str, _Grant] = {}
        #: The last TOTP step used per user: a code is good once.
        self._used_steps: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"{self.server_url}{PREFIX}"

    def discovery(self) -> dict[str, Any]:
        """The OpenID configuration. Its issuer is the pool's (what tokens carry), served
        here as Cognito serves its own under ``cognito-idp.<region>.amazonaws.com``."""
        return {
            "issuer": self.idp.issuer,
            "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token",
            "end_session_endpoint": f"{self.base}/logout",
            "jwks_uri": self.idp.jwks_url(self.aws_endpoint),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "acr_values_supported": ["pwd", "mfa"],
            "claims_supported": ["sub", "email", "email_verified", "acr", "amr", "auth_time"],
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path.removeprefix(PREFIX)
        routes: dict[tuple[str, str], Callable[[HttpRequest], HttpResponse]] = {
            ("GET", "/.well-known/openid-configuration"): lambda _: _json(200, self.discovery()),
            ("GET", "/authorize"): self._authorize,
            ("POST", "/authorize"): self._sign_in,
            ("POST", "/token"): self._token,
            ("GET", "/logout"): self._logout,
        }
        handler = routes.get((request.method, path))
        if handler is None and request.method == "HEAD":
            handler = routes.get(("GET", path))
        if handler is None:
            allowed = sorted(method for method, route in routes if route == path)
            if allowed:
                return _page(405, "Not allowed", "<p>This endpoint does not take that method.</p>")
            return _page(404, "Not found", "<p>No such endpoint of the local sign-in.</p>")
        return handler(request)

    # -- authorization -------------------------------------------------------------------

    def _authorize(self, request: HttpRequest) -> HttpResponse:
        query = dict(parse_qsl(request.query, keep_blank_values=True))
        client = self.clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if client is None or redirect_uri not in client.redirect_uris:
            # Never redirect to where the client did not register: answer here.
            return _page(
                400,
                "Sign-in refused",
                "<p>Unknown client or redirect address: this application is not registered.</p>",
            )
        state = query.get("state")

        def refuse(error: str, description: str) -> HttpResponse:
            return _redirect(redirect_uri, error=error, error_description=description, state=state)

        if query.get("response_type") != "code":
            return refuse("unsupported_response_type", "only the authorization code flow")
        challenge = query.get("code_challenge", "")
        if query.get("code_challenge_method") != "S256" or not 43 <= len(challenge) <= 128:
            return refuse("invalid_request", "PKCE with S256 is required")
        acr_values = query.get("acr_values", "").split()
        authorization = _Authorization(
            client=client,
            redirect_uri=redirect_uri,
            state=state,
            nonce=query.get("nonce"),
            challenge=challenge,
            scope=query.get("scope", "openid"),
            mfa=any(value not in PASSWORD_LEVEL for value in acr_values),
            login_hint=query.get("login_hint", ""),
        )
        request_id = secrets.token_urlsafe(24)
        with self._lock:
            self._expire()
            if len(self._pending) >= _MAX_PENDING:
                return _page(503, "Busy", "<p>Too many sign-ins under way; try again.</p>")
            self._pending[request_id] = authorization
        return self._form(request_id, authorization)

    def _sign_in(self, request: HttpRequest) -> HttpResponse:
        form = dict(parse_qsl((request.body or b"").decode("utf-8", "replace")))
        request_id = form.get("request", "")
        with self._lock:
            self._expire()
            authorization = self._pending.get(request_id)
        if authorization is None:
            return _page(
                400,
                "Sign-in expired",
                "<p>This sign-in form has expired. Go back to the application and sign in again.</p>",
            )
        username = form.get("username", "").strip()
        try:
            tokens = self._authenticate(username, form.get("password", ""), form, authorization)
        except _Refusal as refusal:
            return self._form(request_id, authorization, username, refusal)
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._pending.pop(request_id, None)
            self._grants[code] = _Grant(
                authorization.client.client_id,
                authorization.redirect_uri,
                authorization.challenge,
                tokens,
            )
        return _redirect(
            authorization.redirect_uri, code=code, state=authorization.state, iss=self.idp.issuer
        )

    def _authenticate(
        self, username: str, password: str, form: Mapping[str, str], auth: _Authorization
    ) -> dict[str, Any]:
        account = self.accounts.get(username.lower())
        client = cognito_client(self.aws_endpoint)
        try:
            answer = client.admin_initiate_auth(
                UserPoolId=self.idp.user_pool_id,
                ClientId=self.idp.client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("NotAuthorizedException", "UserNotFoundException"):
                raise _Refusal("Wrong email address or password.", "password") from error
            raise
        result = answer.get("AuthenticationResult")
        if result is None:  # e.g. NEW_PASSWORD_REQUIRED: an invited account's first sign-in
            raise _Refusal(
                "This account must choose a new password first, which the local sign-in "
                "does not offer: use an account of `python -m local accounts`.",
                "password",
            )
        one_time = form.get("code", "").replace(" ", "")
        mfa = False
        if auth.mfa or one_time:
            if account is None or not account.mfa_secret:
                raise _Refusal("This account has no authenticator set up.", "code")
            if not self._verify_totp(account, one_time):
                raise _Refusal("Wrong or used code: enter the current one.", "code")
            mfa = True
        user = client.admin_get_user(UserPoolId=self.idp.user_pool_id, Username=username)
        attributes = {item["Name"]: item["Value"] for item in user["UserAttributes"]}
        now = int(self.clock())
        extra: dict[str, Any] = {"auth_time": now, "iat": now}
        if attributes.get("custom:tenant"):
            extra["tenant"] = attributes["custom:tenant"]

        def shaped(token: str, **claims: Any) -> str:
            merged = {**extra, **claims}
            return with_mfa(token, **merged) if mfa else resigned(token, **merged)

        id_claims: dict[str, Any] = {"email_verified": attributes.get("email_verified") == "true"}
        if attributes.get("email"):
            id_claims["email"] = attributes["email"]
        if auth.nonce is not None:
            id_claims["nonce"] = auth.nonce
        return {
            "access_token": shaped(result["AccessToken"]),
            "id_token": shaped(result["IdToken"], **id_claims),
            "token_type": "Bearer",
            "expires_in": int(result.get("ExpiresIn", 3600)),
            "scope": auth.scope,
        }

    def _verify_totp(self, account: Account, code: str) -> bool:
        """The current code, or the one before or after it (clock drift), never twice."""
        if not (len(code) == DIGITS and code.isdigit()):
            return False
        now = int(self.clock() // STEP)
        for step in (now, now - 1, now + 1):
            if hmac.compare_digest(hotp(account.mfa_secret, step), code):
                with self._lock:
                    if self._used_steps.get(account.username, -1) >= step:
                        return False
                    self._used_steps[account.username] = step
                return True
        return False

    # -- token -----------------------------------------------------------------------------

    def _token(self, request: HttpRequest) -> HttpResponse:
        form = dict(parse_qsl((request.body or b"").decode("utf-8", "replace")))
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "only authorization_code")
        with self._lock:
            self._expire()
            grant = self._grants.pop(form.get("code", ""), None)  # once, right or wrong
        if grant is None:
            return _oauth_error("invalid_grant", "unknown, used or expired code")
        if (
            form.get("client_id") != grant.client_id
            or form.get("redirect_uri") != grant.redirect_uri
        ):
            return _oauth_error("invalid_grant", "the code was issued to another client or address")
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(
            digest.decode(), grant.challenge
        ):
            return _oauth_error("invalid_grant", "the PKCE verifier does not match")
        return _json(200, grant.tokens)

    # -- logout ----------------------------------------------------------------------------

    def _logout(self, request: HttpRequest) -> HttpResponse:
        query = dict(parse_qsl(request.query))
        client = self.clients.get(query.get("client_id", ""))
        target = query.get("post_logout_redirect_uri") or query.get("logout_uri")
        if client is not None and target in client.logout_uris:
            return HttpResponse(303, [("location", target), ("cache-control", "no-store")])
        return _page(200, "Signed out", "<p>You are signed out.</p>")

    def _expire(self) -> None:
        """Drop forms and codes past their lifetime (under the lock)."""
        now = time.monotonic()
        for key in [k for k, v in self._pending.items() if now - v.created > AUTHORIZATION_TTL]:
            del self._pending[key]
        for key in [k for k, v in self._grants.items() if now - v.created > CODE_TTL]:
            del self._grants[key]

    # -- the page --------------------------------------------------------------------------

    def _form(
        self,
        request_id: str,
        auth: _Authorization,
        username: str = "",
        refusal: _Refusal | None = None,
    ) -> HttpResponse:
        def invalid(name: str) -> str:
            if refusal is None or refusal.field_name != name:
                return ""
            return ' aria-invalid="true" aria-describedby="error"'

        username = username or auth.login_hint
        code_field = ""
        if auth.mfa:
            code_field = f"""
      <label for="code">One-time code</label>
      <span class="hint" id="code-hint">6 digits from your authenticator app
        (locally: <code>python -m local mfa</code>)</span>
      <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
        pattern="[0-9 ]{{6,7}}" required aria-describedby="code-hint"{invalid("code")}>"""
        error = (
            f'<p id="error" class="error" role="alert">{html.escape(str(refusal))}</p>'
            if refusal
            else ""
        )
        intro = (
            "This action needs a recent sign-in with multi-factor authentication."
            if auth.mfa
            else "Sign in with your account."
        )
        body = f"""
    <p>{intro}</p>
    {error}
    <form method="post" action="{PREFIX}/authorize">
      <input type="hidden" name="request" value="{html.escape(request_id)}">
      <label for="username">Email address</label>
      <input id="username" name="username" type="email" autocomplete="username" required
        value="{html.escape(username)}"{invalid("username")}>
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password"
        required{invalid("password")}>{code_field}
      <button type="submit">Sign in</button>
    </form>
    <p class="note">Local identity provider of <code>make run</code> (the embedded Cognito
      pool); in AWS, Cognito's managed login. Accounts and passwords:
      <code>python -m local accounts</code>.</p>"""
        return _page(401 if refusal else 200, "Sign in", body)


# --- Responses ------------------------------------------------------------------------

_STYLE = """
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1b2330; background: #f4f6f9; }
main { max-width: 26rem; margin: 8vh auto; background: #fff; border: 1px solid #d5dbe4;
  border-radius: 8px; padding: 1.5rem 2rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
label { display: block; font-weight: 600; margin-top: 1rem; }
.hint { display: block; font-size: .85rem; color: #5a6474; }
input { width: 100%; font: inherit; padding: .5rem; margin-top: .25rem;
  border: 1px solid #8a94a6; border-radius: 6px; box-sizing: border-box; }
input[aria-invalid=true] { border: 2px solid #a4262c; }
:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
button { margin-top: 1.25rem; font: inherit; font-weight: 600; padding: .55rem 1.2rem;
  border: 0; border-radius: 6px; background: #1f4e8c; color: #fff; cursor: pointer; }
.error { color: #a4262c; font-weight: 600; }
.note { margin-top: 1.5rem; font-size: .85rem; color: #5a6474; }
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
_PAGE_HEADERS = [
    ("content-type", "text/html; charset=utf-8"),
    ("cache-control", "no-store"),
    (
        "content-security-policy",
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
]


def _page(status: int, title: str, body: str) -> HttpResponse:
    document = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(title)} · Licensing (local)</title>
  <style>{_STYLE}</style>
</head>
<body>
  <main>
    <h1>{html.escape(title)}</h1>
    {body}
  </main>
</body>
</html>
"""
    return HttpResponse(status, list(_PAGE_HEADERS), document.encode())


def _json(status: int, document: Mapping[str, Any]) -> HttpResponse:
    headers = [
        ("content-type", "application/json"),
        ("cache-control", "no-store"),
        ("pragma", "no-cache"),
    ]
    return HttpResponse(status, headers, json.dumps(document).encode())


def _oauth_error(error: str, description: str) -> HttpResponse:
    return _json(400, {"error": error, "error_description": description})


def _redirect(uri: str, **params: str | None) -> HttpResponse:
    query = urlencode({name: value for name, value in params.items() if value is not None})
    location = f"{uri}{'&' if '?' in uri else '?'}{query}"
    return HttpResponse(303, [("location", location), ("cache-control", "no-store")])
