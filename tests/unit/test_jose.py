from __future__ import annotations

import pytest
from licensing_core.jose import (
    TokenError,
    b64url_decode,
    check_registered_claims,
    compact_header,
)

from tests.support import unsigned_token

NOW = 1_800_000_000


def claims(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"iss": "iss", "aud": "app", "exp": NOW + 60, "iat": NOW}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def check(c: dict[str, object]) -> None:
    check_registered_claims(c, now=NOW, leeway=5, issuer="iss", audiences={"app"})


def test_valid_claims_pass() -> None:
    check(claims())
    check(claims(aud=["other", "app"], nbf=NOW + 5, exp=NOW - 5))  # inside the leeway


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"exp": None}, "MALFORMED"),
        ({"exp": "tomorrow"}, "MALFORMED"),
        ({"exp": True}, "MALFORMED"),
        ({"exp": NOW - 6}, "EXPIRED"),
        ({"nbf": NOW + 6}, "NOT_YET_VALID"),
        ({"nbf": "soon"}, "MALFORMED"),
        ({"iss": "evil"}, "WRONG_ISSUER"),
        ({"aud": "other"}, "WRONG_AUDIENCE"),
        ({"aud": None}, "WRONG_AUDIENCE"),
        ({"aud": [1, 2]}, "WRONG_AUDIENCE"),
    ],
)
def test_bad_claims_are_refused_with_a_code(overrides: dict[str, object], code: str) -> None:
    with pytest.raises(TokenError) as raised:
        check(claims(**overrides))
    assert raised.value.code == code


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.e30", "bnVsbA.e30.x", "W10.e30.x", "x" * 20000],
)
def test_compact_header_rejects_malformed_tokens(token: str) -> None:
    with pytest.raises(TokenError) as raised:
        compact_header(token, max_bytes=16384)
    assert raised.value.code == "MALFORMED"


def test_compact_header_reads_the_header() -> None:
    assert compact_header(unsigned_token(sub="x"), max_bytes=1000)["alg"] == "none"


def test_b64url_decode_refuses_standard_alphabet_and_padding() -> None:
    for bad in ("a+b/", "YQ==", ""):
        with pytest.raises(TokenError):
            b64url_decode(bad)


def _spellings(data: bytes) -> list[str]:
    """Every base64url text that a lenient decoder reads as ``data``."""
    from licensing_core.jose import b64url_encode

    canonical = b64url_encode(data)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    unused = {2: 4, 3: 2}.get(len(canonical) % 4, 0)  # low bits of the last character
    last = alphabet.index(canonical[-1])
    return [canonical[:-1] + alphabet[last | bits] for bits in range(1, 2**unused)]


@pytest.mark.parametrize("data", [b"\x00", b"ab", b"\xff" * 255, b"x" * 256])
def test_base64url_has_one_spelling(data: bytes) -> None:
    from licensing_core.jose import b64url_encode

    assert b64url_decode(b64url_encode(data)) == data
    for other in _spellings(data):
        with pytest.raises(TokenError, match="canonical"):
            b64url_decode(other)


def test_a_header_naming_a_member_twice_is_refused() -> None:
    from licensing_core.jose import b64url_encode

    header = b64url_encode(b'{"alg":"RS256","alg":"none"}')
    with pytest.raises(TokenError, match="more than once"):
        compact_header(f"{header}.e30.c2ln", max_bytes=1000)
