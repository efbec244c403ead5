"""Bearer verification: pinned algorithm, issuer, audience, expiry, key discovery."""

from __future__ import annotations

import time
from typing import Any

import pytest
from jwcrypto import jwk, jwt
from licensing_core.domain.errors import Unauthenticated, Unavailable
from licensing_core.identity.jwks import JwksClient
from licensing_core.identity.oidc import OidcVerifier

from tests.support import TokenMinter, unsigned_token


class CountingFetch:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.calls = 0

    def __call__(self, url: str) -> dict[str, Any]:
        self.calls += 1
        return self.document


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def minter() -> TokenMinter:
    return TokenMinter()


def verifier_for(
    minter: TokenMinter, fetch: CountingFetch, clock: Clock | None = None
) -> OidcVerifier:
    jwks = JwksClient(
        "https://issuer.test/jwks", ttl=3600, cooldown=60, fetch=fetch, clock=clock or Clock()
    )
    return OidcVerifier(
        issuer=minter.issuer,
        audiences=(minter.client_id,),
        jwks=jwks,
        leeway=30,
        max_token_bytes=16384,
    )


def test_a_valid_access_token_yields_the_principal(minter: TokenMinter) -> None:
    principal = verifier_for(minter, CountingFetch(minter.jwks())).verify(minter.mint(sub="alice"))
    assert principal.subject == "alice"
    assert principal.groups == {"license-admins"}


def test_an_id_token_is_accepted_by_its_audience(minter: TokenMinter) -> None:
    token = minter.mint(token_use="id", client_id=None, aud=minter.client_id, email="a@example.com")
    assert verifier_for(minter, CountingFetch(minter.jwks())).verify(token).email == "a@example.com"


def hs256_with_public_key_as_secret(minter: TokenMinter) -> str:
    secret = jwk.JWK(kty="oct", k=minter.key.export_public(as_dict=True)["n"])
    token = jwt.JWT(
        header={"alg": "HS256", "kid": minter.key.kid},
        claims={
            "iss": minter.issuer,
            "sub": "x",
            "client_id": minter.client_id,
            "exp": int(time.time()) + 60,
        },
    )
    token.make_signed_token(secret)
    return str(token.serialize())


def forged_by_another_key(minter: TokenMinter) -> str:
    return TokenMinter(
        issuer=minter.issuer,
        client_id=minter.client_id,
        key=jwk.JWK.generate(kty="RSA", size=2048, kid=minter.key.kid),
    ).mint()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (
            lambda m: unsigned_token(iss=m.issuer, sub="x", client_id=m.client_id, exp=2**40),
            "algorithm",
        ),
        (hs256_with_public_key_as_secret, "algorithm"),
        (forged_by_another_key, "signature"),
        (lambda m: m.mint(exp=int(time.time()) - 120), "expired"),
        (lambda m: m.mint(exp=None), "exp"),
        (lambda m: m.mint(iss="https://evil.test"), "issuer"),
        (lambda m: m.mint(client_id="another-client"), "client"),
        (lambda m: m.mint(token_use="refresh"), "neither"),
        (lambda m: m.mint(sub=None), "subject"),
        (lambda m: m.mint(header={"kid": "unknown"}), "unknown key"),
        (lambda m: m.mint(padding="x" * 20000), "longer"),
        (lambda m: m.mint() + "x", "base64url"),
        (lambda m: "not-a-token", "segments"),
    ],
)
def test_bad_tokens_are_unauthenticated(minter: TokenMinter, make: Any, reason: str) -> None:
    with pytest.raises(Unauthenticated, match=reason):
        verifier_for(minter, CountingFetch(minter.jwks())).verify(make(minter))


def test_unknown_kid_refetches_at_most_once_per_cooldown(minter: TokenMinter) -> None:
    fetch, clock = CountingFetch(minter.jwks()), Clock()
    verifier = verifier_for(minter, fetch, clock)
    verifier.verify(minter.mint())
    assert fetch.calls == 1
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            verifier.verify(minter.mint(header={"kid": "rotated"}))
    assert fetch.calls == 1  # within the cooldown: no hammering of the issuer
    rotated = jwk.JWK.generate(kty="RSA", size=2048, kid="rotated")
    fetch.document = {"keys": [*minter.jwks()["keys"], rotated.export_public(as_dict=True)]}
    clock.now += 61
    new_minter = TokenMinter(issuer=minter.issuer, client_id=minter.client_id, key=rotated)
    assert verifier.verify(new_minter.mint()).subject == "user-1"
    assert fetch.calls == 2


def test_jwks_outage_without_cached_keys_is_unavailable(minter: TokenMinter) -> None:
    def failing(url: str) -> dict[str, Any]:
        raise OSError("connection refused")

    jwks = JwksClient("https://issuer.test/jwks", ttl=1, cooldown=1, fetch=failing)
    verifier = OidcVerifier(
        issuer=minter.issuer,
        audiences=(minter.client_id,),
        jwks=jwks,
        leeway=0,
        max_token_bytes=16384,
    )
    with pytest.raises(Unavailable):
        verifier.verify(minter.mint())


def test_jwks_outage_keeps_serving_cached_keys(minter: TokenMinter) -> None:
    fetch, clock = CountingFetch(minter.jwks()), Clock()
    verifier = verifier_for(minter, fetch, clock)
    verifier.verify(minter.mint())

    def failing(url: str) -> dict[str, Any]:
        raise OSError("down")

    verifier._jwks._fetch = failing
    clock.now += 7200
    assert verifier.verify(minter.mint()).subject == "user-1"


def test_jwks_entries_that_are_not_rsa_signing_keys_are_ignored(minter: TokenMinter) -> None:
    document = {
        "keys": [
            {"kty": "oct", "kid": minter.key.kid, "k": "c2VjcmV0"},
            {**minter.jwks()["keys"][0], "use": "enc"},
            "garbage",
        ]
    }
    with pytest.raises(Unauthenticated, match="unknown key"):
        verifier_for(minter, CountingFetch(document)).verify(minter.mint())
