"""Compact JWS creation through a :class:`~licensing_core.tokens.signer.Signer`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from licensing_core.jose import b64url_encode
from licensing_core.tokens.signer import ALGORITHM, Signer


def _segment(value: Mapping[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


def sign_compact(claims: Mapping[str, Any], *, typ: str, signer: Signer) -> str:
    """An RS256 compact JWS of ``claims`` with header ``{alg, kid, typ}``."""
    header = {"alg": ALGORITHM, "kid": signer.current.kid, "typ": typ}
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"
