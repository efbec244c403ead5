"""Email addresses as keys: the one rule that makes every form of an address one key.

People type one address in many forms: ``Ada@Example.com``; full-width letters
(U+FF41...) from an East Asian input method; ``ﬁnance`` with a ligature pasted from a
PDF; an accent composed or decomposed (NFC, NFD); ``ß`` for ``ss``; the Kelvin sign for
``K``; a Unicode domain or its ``xn--`` (punycode) form, with ideographic full stops.
Each form is the same person, so uniqueness per tenant, lookups, claims and rate limits
all use :func:`email_key`; what the person typed is kept for display. Addresses that
hide characters (controls, bidi overrides, zero-width or other invisible characters)
are refused, since their twins would look identical and key differently.
"""

from __future__ import annotations

import re
import unicodedata

from licensing_core.domain.errors import InvalidEmail

#: RFC 5321's limit on a forward path, applied to the key.
MAX_LENGTH = 254
#: Characters an address may only carry quoted (never accepted here).
_SPECIALS = frozenset('<>()[],;:\\"')
#: Label separators IDNA reads as dots (NFKC maps the full-width one, not the others).
_DOTS = re.compile("[\u3002\uff0e\uff61]")
#: Default-ignorable code points outside categories C and Z: invisible, so a twin of
#: the address without them.
_INVISIBLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)


def _fold(text: str) -> str:
    """NFKC, full case folding (``ß`` -> ``ss``), NFKC again (folding can decompose)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _label(label: str) -> str:
    """A folded domain label; an ``xn--`` label decoded to Unicode and folded (one that
    does not round-trip is refused)."""
    if not label.startswith("xn--"):
        return label
    try:
        return _fold(label.encode("ascii").decode("idna"))
    except UnicodeError:
        raise InvalidEmail from None


def email_key(address: str) -> str:
    """The key of an address: surrounding white space stripped, NFKC and case folded, the
    domain's ``xn--`` labels decoded and its ideographic dots made dots. Idempotent;
    refuses (:class:`InvalidEmail`) what is not one visible ``local@domain`` once
    normalised, with a domain of at least two labels that IDNA can encode."""
    typed = address.strip()
    local, _, domain = _fold(typed).rpartition("@")
    labels = [_label(label) for label in _DOTS.sub(".", domain).split(".")]
    key = f"{local}@{'.'.join(labels)}"
    if (
        not local
        or len(labels) < 2
        or not all(labels)
        or len(key) > MAX_LENGTH
        or key.count("@") != 1
        or any(c in _SPECIALS for c in key)
        or any("." in label or _DOTS.search(label) for label in labels)
        or _INVISIBLE.search(typed + key)
        or any(unicodedata.category(c)[0] in "CZ" for c in typed + key)
    ):
        raise InvalidEmail
    try:
        ".".join(labels).encode("idna")  # every label 1..63 octets once encoded
    except UnicodeError:
        raise InvalidEmail from None
    return key
