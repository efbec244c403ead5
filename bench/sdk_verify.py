"""How fast the client SDK verifies a license key, next to PyJWT, in one process.

    python bench/sdk_verify.py [--tokens 300] [--rounds 5]

Every verification is a *first* verification: each token (same claims as the server's
keys, a distinct ``jti``) is verified once per round, by the SDK and by PyJWT
(``jwt.decode`` with a ``PyJWK``, RS256, ``aud``/``iss`` checked, ``exp`` required),
alternating so both see the same machine noise. Medians of all timings are compared.
"Warm key" parses the public key once (the SDK caches it per ``kid``, PyJWT holds it in
the ``PyJWK``); "cold" parses the JWKS for every token (a fresh client / ``PyJWK``).
No network: the key and tokens are made here. No assertion: figures only.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from licensing_client import License, LicensingClient

ISSUER = "https://licensing.example.com"
PRODUCT = "Rdn.Identity"
KID = "bench-key"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(value: int) -> str:
    return b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def make_issuer() -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    jwk = {
        "kty": "RSA",
        "kid": KID,
        "use": "sig",
        "alg": "RS256",
        "n": uint(numbers.n),
        "e": uint(numbers.e),
    }
    return key, {"keys": [jwk]}


def license_key(key: rsa.RSAPrivateKey, now: int) -> str:
    """A token shaped like the server's enterprise license keys."""
    claims = {
        "iss": ISSUER,
        "sub": "lic_" + uuid.uuid4().hex[:24],
        "aud": PRODUCT,
        "iat": now,
        "nbf": now,
        "exp": now + 3_155_760_000,
        "jti": b64(uuid.uuid4().bytes),
        "customer": "cus_" + uuid.uuid4().hex[:24],
        "tenant": "default",
        "product": "prd_" + uuid.uuid4().hex[:24],
        "tier": "enterprise",
        "features": ["audit_log", "data_export", "multi_tenant", "passkeys", "sso"],
        "limits": {
            "maxTenants": 10,
            "maxUsers": 50,
            "quotas": {"api_calls": {"limit": 10_000_000, "period": "month"}},
        },
        "heartbeat": {"intervalSeconds": 3600, "ttlSeconds": 172_800},
        "stepUp": {"data_export": {"acr": "mfa", "maxAge": 300}},
        "gen": 1,
    }
    header = {"alg": "RS256", "kid": KID, "typ": "license+jwt"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


def timed(function: Callable[[str], object], token: str) -> int:
    start = time.perf_counter_ns()
    function(token)
    return time.perf_counter_ns() - start


def compare(
    tokens: list[str], rounds: int, ours: Callable[[str], object], theirs: Callable[[str], object]
) -> tuple[float, float]:
    sdk: list[int] = []
    pyjwt: list[int] = []
    for round_ in range(rounds):
        for index, token in enumerate(tokens):
            if (index + round_) % 2:
                sdk.append(timed(ours, token))
                pyjwt.append(timed(theirs, token))
            else:
                pyjwt.append(timed(theirs, token))
                sdk.append(timed(ours, token))
    return statistics.median(sdk) / 1000, statistics.median(pyjwt) / 1000


def per_call_ns(function: Callable[[], object], calls: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter_ns()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter_ns() - start) / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tokens", type=int, default=300, help="distinct tokens (default 300)")
    parser.add_argument("--rounds", type=int, default=5, help="passes over them (default 5)")
    args = parser.parse_args()

    key, jwks = make_issuer()
    now = int(time.time())
    tokens = [license_key(key, now) for _ in range(args.tokens)]
    client = LicensingClient.offline(jwks=jwks, issuer=ISSUER, product=PRODUCT)
    pyjwk = jwt.PyJWK(jwks["keys"][0])

    def sdk_warm(token: str) -> License:
        return client.verify_license_key(token)

    def pyjwt_warm(token: str) -> dict[str, Any]:
        return jwt.decode(
            token,
            pyjwk,
            algorithms=["RS256"],
            audience=PRODUCT,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud"]},
        )

    def sdk_cold(token: str) -> License:
        return LicensingClient.offline(
            jwks=jwks, issuer=ISSUER, product=PRODUCT
        ).verify_license_key(token)

    def pyjwt_cold(token: str) -> dict[str, Any]:
        return jwt.decode(
            token,
            jwt.PyJWK(jwks["keys"][0]),
            algorithms=["RS256"],
            audience=PRODUCT,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud"]},
        )

    # same answers first: both accept the tokens and agree on the claims
    assert sdk_warm(tokens[0]).to_dict() == pyjwt_warm(tokens[0])
    for token in tokens[:20]:  # warm-up (imports, allocator, branch predictors)
        sdk_warm(token), pyjwt_warm(token), sdk_cold(token), pyjwt_cold(token)

    gc.collect()
    gc.disable()
    try:
        warm = compare(tokens, args.rounds, sdk_warm, pyjwt_warm)
        cold = compare(tokens, max(1, args.rounds // 2), sdk_cold, pyjwt_cold)
        held = client.verify_license_key(tokens[0])
        has_ns = per_call_ns(lambda: held.has("sso"), 200_000)
        has_missing_ns = per_call_ns(lambda: held.has("priority_support"), 200_000)
        limit_ns = per_call_ns(lambda: held.limit("api_calls"), 200_000)
        empty_ns = per_call_ns(lambda: None, 200_000)
    finally:
        gc.enable()

    samples = args.tokens * args.rounds
    print(f"license key: {len(tokens[0])} bytes, RS256 2048-bit; {samples} timings per warm row")
    print()
    print(f"{'first verification (median)':<40}{'SDK µs':>10}{'PyJWT µs':>10}{'speed-up':>10}")
    for name, (ours, theirs) in (
        ("warm key (parsed once per kid)", warm),
        ("cold (JWKS parsed each time)", cold),
    ):
        print(f"{name:<40}{ours:>10.1f}{theirs:>10.1f}{theirs / ours:>9.2f}x")
    print()
    print(f"{'gate':<40}{'ns/op':>10}{'net ns/op':>12}")
    for name, value in (
        ('license.has("sso")', has_ns),
        ('license.has("priority_support")', has_missing_ns),
        ('license.limit("api_calls")', limit_ns),
    ):
        print(f"{name:<40}{value:>10.0f}{value - empty_ns:>12.0f}")
    print(f"{'(a no-op lambda call, subtracted)':<40}{empty_ns:>10.0f}")


if __name__ == "__main__":
    main()
