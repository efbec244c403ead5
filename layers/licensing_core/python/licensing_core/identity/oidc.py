"""Verification of OIDC bearer tokens (admins and end users).

Works with Amazon Cognito (access tokens carry ``client_id`` and ``token_use``,
ID tokens ``aud``) and any OIDC issuer that publishes a JWKS. The expected
issuer and the JWKS URL are configured separately.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from licensing_core import strict_json
from licensing_core.domain.errors import Unauthenticated
from licensing_core.jose import (
    TokenError,
    audience_matches,
    check_registered_claims,
    compact_header,
    require_alg,
)
from licensing_core.settings import ConfigurationError, Settings, get_settings, per_settings

if TYPE_CHECKING:  # jwcrypto and the JWKS client load with the first bearer verified
    from licensing_core.identity.jwks import JwksClient

#: Algorithms accepted from identity providers; never taken from the token.
OIDC_ALGORITHMS = ("RS256",)


#: A tenant id as a claim may carry it (the shape of our ids and of ``default``).
_TENANT = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")


def is_service_token(claims: Mapping[str, Any]) -> bool:
    """Whether a token speaks for a service account (OAuth client credentials) rather
    than a person: no user signed in, the client is its own subject (Cognito, Okta),
    or the issuer says so (Auth0 ``gty``, Entra ID ``idtyp``)."""
    if claims.get("gty") == "client-credentials" or claims.get("idtyp") == "app":
        return True
    client = claims.get("client_id", claims.get("azp"))
    return isinstance(client, str) and claims.get("sub") == client


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the identity provider vouches."""

    subject: str
    groups: frozenset[str]
    claims: Mapping[str, Any]

    @property
    def email(self) -> str | None:
        email = self.claims.get("email")
        return email if isinstance(email, str) else None

    @property
    def kind(self) -> Literal["human", "service"]:
        return "service" if is_service_token(self.claims) else "human"

    @property
    def scopes(self) -> frozenset[str]:
        scope = self.claims.get("scope")
        return frozenset(scope.split()) if isinstance(scope, str) else frozenset()

    def tenant(self, claim_names: tuple[str, ...]) -> str | None:
        """The tenant the token names (the first of ``claim_names`` present), if any; a
        malformed value names none."""
        for name in claim_names:
            value = self.claims.get(name)
            if value is not None:
                return value if isinstance(value, str) and _TENANT.match(value) else None
        return None


class OidcVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audiences: tuple[str, ...],
        jwks: JwksClient,
        leeway: int,
        max_token_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not audiences:
            raise ConfigurationError("LICENSING_OIDC_AUDIENCES must name at least one client")
        self._issuer = issuer
        self._audiences = audiences
        self._jwks = jwks
        self._leeway = leeway
        self._max_token_bytes = max_token_bytes
        self._clock = clock

    def verify(self, token: str) -> Principal:
        """The principal of a valid bearer token; :class:`Unauthenticated` otherwise."""
        try:
            claims = self._verified_claims(token)
        except TokenError as error:
            raise Unauthenticated(error.detail) from error
        groups = claims.get("cognito:groups", claims.get("groups", []))
        if not isinstance(groups, list):
            groups = []
        return Principal(
            subject=str(claims["sub"]),
            groups=frozenset(group for group in groups if isinstance(group, str)),
            claims=claims,
        )

    def _verified_claims(self, token: str) -> dict[str, Any]:
        header = compact_header(token, max_bytes=self._max_token_bytes)
        require_alg(header, OIDC_ALGORITHMS)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError("MALFORMED", "token header has no kid")
        key = self._jwks.key(kid)
        if key is None:
            raise TokenError("UNKNOWN_KEY_ID", "token signed by an unknown key")
        from jwcrypto import jws
        from jwcrypto.common import JWException

        verifier = jws.JWS()
        try:
            verifier.deserialize(token)
            verifier.verify(key, alg=header["alg"])
            claims = strict_json.loads(verifier.payload)
        except (JWException, ValueError, UnicodeDecodeError) as error:
            raise TokenError("SIGNATURE_INVALID", "token signature is invalid") from error
        if not isinstance(claims, dict):
            raise TokenError("MALFORMED", "token claims are not a JSON object")
        check_registered_claims(
            claims, now=self._clock(), leeway=self._leeway, issuer=self._issuer, audiences=None
        )
        self._check_audience(claims)
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise TokenError("MALFORMED", "token has no subject")
        return claims

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
        token_use = claims.get("token_use")
        if token_use is not None and token_use not in ("access", "id"):
            raise TokenError("WRONG_TOKEN_USE", "token is neither an access nor an ID token")
        client_id = claims.get("client_id")
        if (isinstance(client_id, str) and client_id in self._audiences) or audience_matches(
            claims.get("aud"), self._audiences
        ):
            return
        raise TokenError("WRONG_AUDIENCE", "token is meant for another client")


def build_verifier(settings: Settings) -> OidcVerifier:
    if not settings.oidc_issuer:
        raise ConfigurationError("LICENSING_OIDC_ISSUER is not set")
    jwks_url = settings.oidc_jwks_url or f"{settings.oidc_issuer}/.well-known/jwks.json"
    from licensing_core.identity.jwks import JwksClient

    return OidcVerifier(
        issuer=settings.oidc_issuer,
        audiences=settings.oidc_audiences,
        jwks=JwksClient(
            jwks_url,
            ttl=settings.jwks_cache_seconds,
            cooldown=settings.jwks_refetch_cooldown_seconds,
        ),
        leeway=settings.leeway_seconds,
        max_token_bytes=settings.max_token_bytes,
    )


@per_settings
def get_verifier() -> OidcVerifier:
    return build_verifier(get_settings())
