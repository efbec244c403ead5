"""Identity twins: forms of one email address (case, NFC/NFD, full-width letters,
ligatures, ß, the Kelvin sign, a Unicode domain's ACE form) are one identity per tenant
and one per-email registration limit; the first identity keeps the form it was typed in."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_registration import set_password_and_sign_in
from tests.security.support import Api, Json, assert_problem, clear_of_window_edge
from tests.support import full_width

pytestmark = pytest.mark.e2e

#: (as the first identity was typed, a twin typed later)
TWINS = {
    "case": ("Ada.Lovelace@Example.COM", "ada.lovelace@example.com"),
    "nfc-nfd": ("zo\u00eb@example.com", "zoe\u0308@example.com"),
    "full-width": (full_width("alice") + "@example.com", "alice@example.com"),
    "full-width-at": ("alice@example.com", full_width("alice@example.com")),
    "ligature": ("\ufb01nance@example.com", "finance@example.com"),
    "sharp-s": ("stra\u00dfe@example.com", "STRASSE@example.com"),
    "kelvin": ("\u212aelvin@example.com", "kelvin@example.com"),
    "unicode-domain": ("ada@ex\u00e4mple.com", "ADA@EX\u00c4MPLE.COM"),
    "punycode-domain": ("ada@ex\u00e4mple.com", "ada@xn--exmple-cua.com"),
    "ideographic-dot": ("ada@example.com", "ada@example\u3002com"),
    "mixed": (
        full_width("ZOE") + "\u0308.\ufb01@" + full_width("EXAMPLE.COM"),
        "zo\u00eb.fi@example.com",
    ),
}

#: Not an address once normalised (else a twin, or worse): 422, nothing written.
INVALID = {
    "two-ats": full_width("ada@b") + "@example.com",
    "full-width-brackets": "\uff1cada\uff1e@example.com",
    "variation-selector": "ada\ufe0f@example.com",
    "trailing-dot": "ada@example.com.",
    "full-width-trailing-dot": "ada@example\uff0e",
    "bidi-override": "ada@exa\u202emple.com",
    "soft-hyphen-domain": "ada@exa\u00admple.com",
    "bad-punycode": "ada@xn--.com",
    "too-long-after-nfkc": "\ufdfa" * 14 + "@example.com",
}


def tenant(api: Api) -> str:
    tenant_id: str = api.ok("POST", "/tenants", {"name": "Twins"})["tenantId"]
    return tenant_id


def create(api: Api, email: str, tenant_id: str) -> Json:
    customer: Json = api.ok(
        "POST", "/customers", {"email": email, "name": "Twin", "tenantId": tenant_id}
    )
    return customer


@pytest.mark.parametrize(("typed", "twin"), TWINS.values(), ids=TWINS.keys())
def test_a_twin_is_the_same_identity_and_the_typed_form_is_kept(
    api: Api, typed: str, twin: str
) -> None:
    home = tenant(api)
    first = create(api, typed, home)
    assert first["email"] == typed
    with api.dynamo.unchanged(("POST", "/customers")):
        again = api.admin("POST", "/customers", {"email": twin, "name": "Twin", "tenantId": home})
    assert_problem(again, 409, "EMAIL_TAKEN")
    assert api.ok("GET", f"/customers/{first['customerId']}")["email"] == typed
    listed = api.ok("GET", f"/tenants/{home}/customers")["items"]
    assert [item["customerId"] for item in listed] == [first["customerId"]]
    # another tenant is another space of identities
    elsewhere = create(api, twin, tenant(api))
    assert elsewhere["email"] == twin and elsewhere["customerId"] != first["customerId"]


@pytest.mark.parametrize("email", INVALID.values(), ids=INVALID.keys())
def test_an_address_invalid_once_normalised_is_refused(api: Api, email: str) -> None:
    with api.dynamo.unchanged(("POST", "/customers")):
        reply = api.admin("POST", "/customers", {"email": email, "name": "Twin"})
    assert_problem(reply, 422, "VALIDATION_FAILED")
    assert [error["path"] for error in reply.body["errors"]] == ["body.email"], reply.body


def test_twins_share_one_registration_limit_and_one_claim(api: Api) -> None:
    """Three registrations per address an hour, whichever form it is typed in; the pending
    claim and the invited account are the one of the normalised address."""
    clear_of_window_edge()
    tag = uuid.uuid4().hex[:10]
    key = f"fi{tag}@example.com"
    forms = [
        f"\ufb01{tag}@example.com",
        f"FI{tag.upper()}@EXAMPLE.COM",
        full_width(f"fi{tag}") + "@example\u3002com",
        f"\ufb01{tag}@" + full_width("EXAMPLE.COM"),
    ]
    body = {"productCode": "Rdn.Identity", "tierCode": "free"}
    replies = [api.anon("POST", "/register", {**body, "email": form}) for form in forms]
    assert [reply.status for reply in replies[:3]] == [202, 202, 202], replies
    assert_problem(replies[3], 429, "RATE_LIMITED")
    claims = [item for item in api.dynamo.items("licensing-claims") if tag in item["email"]["S"]]
    assert [item["email"]["S"] for item in claims] == [key]
    assert claims[0]["claim_id"]["S"] == replies[2].body["claimId"]


def test_a_registration_in_a_twin_form_is_claimed_by_the_identity_an_admin_made(
    api: Api,
) -> None:
    """The claim matches the account's verified email to the identity by its normalised
    form: the license goes to the identity the administrator created, which keeps its
    typed email."""
    tag = uuid.uuid4().hex[:10]
    typed = full_width(f"Dora{tag}") + "@Example.com"
    created = api.ok("POST", "/customers", {"email": typed, "name": "Dora"})
    accepted = api.anon(
        "POST",
        "/register",
        {
            "email": f"DORA{tag.upper()}@example.com",
            "productCode": "Rdn.Identity",
            "tierCode": "free",
        },
    )
    assert accepted.status == 202, accepted
    token = set_password_and_sign_in(api.server, f"dora{tag}@example.com")
    claimed = api.server.request("POST", "/user/claim-license", token=token)
    assert claimed.status == 201, claimed
    license = api.ok("GET", f"/license-keys/{claimed.body['licenseId']}")
    assert license["customerId"] == created["customerId"]
    customer = api.ok("GET", f"/customers/{created['customerId']}")
    assert customer["email"] == typed and customer["subject"]
