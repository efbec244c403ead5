"""The one rule that makes twins of an email address one key (domain.emails)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from licensing_core.domain.emails import email_key
from licensing_core.domain.errors import InvalidEmail

from tests.support import full_width

#: (the key, forms people type that are the same address)
TWINS = [
    ("ada@example.com", ["Ada@Example.COM", "  ADA@EXAMPLE.COM\t", full_width("ada@example.com")]),
    ("zoë@example.com", ["zo\u00eb@example.com", "zoe\u0308@example.com", "ZOE\u0308@example.com"]),
    ("finance@example.com", ["\ufb01nance@example.com", "\ufb01NANCE@example.com"]),
    ("strasse@example.com", ["straße@example.com", "STRASSE@example.com", "STRAẞE@example.com"]),
    ("kelvin@example.com", ["\u212aelvin@example.com", "KELVIN@example.com"]),
    # a Unicode domain: its case and width variants, its punycode (ACE) form, other dots
    (
        "ada@exämple.com",
        ["ada@EXÄMPLE.com", "ada@xn--exmple-cua.com", "ada@XN--EXMPLE-CUA.COM", "ada@exämple。com"],
    ),
    ("ada@example.com", ["ada@example\uff0ecom", "ada@example\uff61com", "ada\uff20example.com"]),
    ("zoë.fi@example.com", [full_width("ZOE") + "\u0308.\ufb01@" + full_width("EXAMPLE.COM")]),
]


@pytest.mark.parametrize(
    ("key", "form"), [(key, form) for key, forms in TWINS for form in [key, *forms]]
)
def test_every_form_of_an_address_has_its_one_key(key: str, form: str) -> None:
    assert email_key(form) == key
    assert email_key(key) == key


def test_keys_are_composed_and_different_addresses_stay_different() -> None:
    key = email_key("zoe\u0308@example.com")
    assert unicodedata.is_normalized("NFC", key) and len(key) == len("zoë@example.com")
    distinct = ["ada@example.com", "ada+x@example.com", "ada@example.org", "ad.a@example.com"]
    assert len({email_key(address) for address in distinct}) == len(distinct)


@pytest.mark.parametrize(
    "address",
    [
        "ada.example.com",  # no @
        "@example.com",
        "ada@",
        "ada@localhost",  # no dot in the domain
        "ada@example..com",  # an empty label
        "ada@example.com.",  # a trailing dot: a twin of the name without it
        "ada@example\uff0e",  # the same, full width
        "ada@b@example.com",
        "ada\uff20b@example.com",  # a second @ after NFKC
        "\uff1cada\uff1e@example.com",  # <ada> after NFKC
        "ada\u202e@example.com",  # bidi override
        "ada\u200b@example.com",  # zero width space
        "ada\u00ad@example.com",  # soft hyphen
        "ada\ufe0f@example.com",  # variation selector (invisible, not a format character)
        "ada\u034f@example.com",  # combining grapheme joiner
        "ad\u3164a@example.com",  # Hangul filler
        "ada\u0000@example.com",
        "ada\u0007@example.com",
        "a da@example.com",
        "ada\u00a0x@example.com",  # no-break space (a space after NFKC)
        "ada@exa\u00admple.com",  # mapped to nothing by IDNA: would be a twin of example.com
        "ada@xn--.com",  # an empty ACE label
        "ada@xn--a\u00e4.com",  # an ACE prefix on a Unicode label
        "ada@" + "a" * 64 + ".com",  # a label longer than 63
        "a" * 250 + "@example.com",
        "\ufdfa" * 14 + "@example.com",  # short as typed, over 254 characters after NFKC
    ],
)
def test_addresses_that_are_not_valid_after_normalisation_are_refused(address: str) -> None:
    with pytest.raises(InvalidEmail) as refused:
        email_key(address)
    assert refused.value.code == "INVALID_EMAIL"
    assert isinstance(refused.value, ValueError)  # a pydantic validator's error too


#: Any visible text: letters, marks, digits, punctuation, symbols (compatibility forms,
#: ligatures, combining sequences and punctuation that NFKC turns into @ or dots included).
visible = st.text(st.characters(categories=("L", "M", "N", "P", "S")), min_size=1, max_size=30)


@given(local=visible, domain=visible)
def test_the_key_is_idempotent(local: str, domain: str) -> None:
    try:
        key = email_key(f"{local}@{domain}.com")
    except InvalidEmail:
        return
    assert email_key(key) == key


@given(address=st.text(st.characters(exclude_categories=["Cs"]), max_size=60))
def test_anything_is_refused_or_keyed_never_an_other_error(address: str) -> None:
    try:
        key = email_key(address)
    except InvalidEmail:
        return
    assert email_key(key) == key and len(key) <= 254


@given(local=st.from_regex(r"[A-Za-z0-9._%+-]{1,20}", fullmatch=True), domain=visible)
def test_case_and_width_never_make_a_second_key(local: str, domain: str) -> None:
    try:
        key = email_key(f"{local}@{domain}.com")
    except InvalidEmail:
        assume(False)
        return
    for twin in (local.upper(), local.lower(), full_width(local)):
        assert email_key(f"{twin}@{domain}.com") == key
