"""Machines that say who they are, and people who manage their own: activation takes a
hostname, platform, app version and name (printable, bounded: 422 otherwise, nothing
written); administrators and the license's holder see them; the holder lists their
machines across licenses, frees a seat and fetches a fresh key of their license (step-up;
their other keys stay valid). Another person's machine or license answers exactly as one
that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from licensing_core.store.models import ActivationRecord, AuditRecord, LicenseRecord

from local.aws import claims_of, with_mfa
from tests.integration.conftest import CognitoPool
from tests.integration.test_tenancy import snapshot
from tests.support import Response, invoke

Admin = Callable[..., Response]
ACTIVATE = "/license-activations/activate"
DETAILS = {
    "hostname": "build-07.example.internal",
    "platform": "Linux-6.8.0-45-generic-x86_64-with-glibc2.39",
    "appVersion": "4.2.1",
    "name": "Zoë's laptop",
}


@dataclass
class Person:
    """A person with an account, their identity and a license with a live machine."""

    token: str  #: a plain session
    customer_id: str
    license_id: str
    key_token: str
    activation_id: str

    @property
    def stepped_up(self) -> str:
        return with_mfa(self.token)


def person(aws: CognitoPool, admin: Admin, product: str, tier: str, email: str) -> Person:
    token = aws.user_token(email)
    customer = admin(
        "POST",
        "/customers",
        {"email": email, "name": email, "subject": claims_of(token)["sub"]},
    )
    assert customer.status == 201, customer.text
    body = {"productId": product, "tierId": tier, "customerId": customer.json["customerId"]}
    issued = admin("POST", "/license-keys", {**body, "perpetual": True})
    assert issued.status == 201, issued.text
    key = issued.json["keyToken"]
    activated = invoke(
        "POST", ACTIVATE, body={"keyToken": key, "machineId": f"{email}-m1", **DETAILS}
    )
    assert activated.status == 201, activated.text
    return Person(
        token,
        customer.json["customerId"],
        issued.json["licenseId"],
        key,
        activated.json["activationId"],
    )


@pytest.fixture
def ada(aws: CognitoPool, admin: Admin, product: str, tiers: dict[str, str]) -> Person:
    return person(aws, admin, product, tiers["pro"], "ada@example.com")


@pytest.fixture
def bob(aws: CognitoPool, admin: Admin, product: str, tiers: dict[str, str]) -> Person:
    return person(aws, admin, product, tiers["pro"], "bob@example.com")


def same_answer(first: Response, second: Response, *ids: tuple[str, str]) -> None:
    """Two answers alike but for the ids named, the request id and the instance."""

    def plain(response: Response) -> dict[str, Any]:
        body = dict(response.json)
        for volatile in ("requestId", "instance"):
            body.pop(volatile, None)
        text = body.get("detail", "")
        for id_ in sorted((i for pair in ids for i in pair), key=len, reverse=True):
            text = text.replace(id_, "<id>")
        return {**body, "detail": text, "status": response.status}

    assert plain(first) == plain(second)


# Machine details


def test_administrators_and_the_holder_see_what_a_machine_said_of_itself(
    ada: Person, admin: Admin
) -> None:
    listed = admin("GET", f"/license-keys/{ada.license_id}/activations")
    [machine] = listed.json["items"]
    assert {k: machine[k] for k in DETAILS} == DETAILS
    assert machine["dead"] is False and machine["lastHeartbeatAt"]
    mine = invoke("GET", "/user/activations", token=ada.token)
    assert mine.status == 200, mine.text
    [own] = mine.json["items"]
    assert {k: own[k] for k in DETAILS} == DETAILS
    assert own["licenseId"] == ada.license_id and own["productCode"] == "Rdn.Identity"
    assert own["activationId"] == ada.activation_id and own["dead"] is False
    assert {k: v for k, v in own.items() if k in machine} == machine


def test_a_machine_activating_again_updates_what_it_sends_and_keeps_the_rest(
    ada: Person, admin: Admin
) -> None:
    again = invoke(
        "POST",
        ACTIVATE,
        body={"keyToken": ada.key_token, "machineId": "ada@example.com-m1", "appVersion": "4.3"},
    )
    assert again.status == 200, again.text
    [machine] = admin("GET", f"/license-keys/{ada.license_id}/activations").json["items"]
    assert machine["appVersion"] == "4.3" and machine["hostname"] == DETAILS["hostname"]
    assert machine["name"] == DETAILS["name"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hostname", "a\x07b"),  # a control character
        ("hostname", "host\nname"),
        ("hostname", "x" * 254),
        ("name", "evil\u202eexe.txt"),  # a bidi override
        ("name", "zero\u200bwidth"),
        ("name", "\x00"),
        ("name", "n" * 129),
        ("platform", ""),
        ("platform", "p" * 129),
        ("appVersion", "1.0\t2"),
        ("appVersion", "v" * 65),
        ("appVersion", 4),
    ],
)
def test_bad_machine_details_are_refused_and_nothing_is_written(
    ada: Person, field: str, value: Any
) -> None:
    before = snapshot()
    answer = invoke(
        "POST",
        ACTIVATE,
        body={"keyToken": ada.key_token, "machineId": "m-new", field: value},
    )
    assert answer.status == 422, answer.text
    assert answer.json["code"] == "VALIDATION_FAILED"
    assert answer.json["errors"][0]["path"] == f"body.{field}"
    assert snapshot() == before


# Your machines


def test_people_list_their_own_machines_only(ada: Person, bob: Person, aws: CognitoPool) -> None:
    mine = invoke("GET", "/user/activations", token=ada.token).json["items"]
    assert [m["activationId"] for m in mine] == [ada.activation_id]
    nobody = invoke("GET", "/user/activations", token=aws.user_token("new@example.com"))
    assert nobody.status == 200 and nobody.json == {"items": [], "nextCursor": None}
    bad = invoke("GET", "/user/activations", token=ada.token, query={"cursor": "nope"})
    assert bad.status == 400 and bad.json["code"] == "INVALID_CURSOR"


def test_the_machines_of_many_licenses_come_a_page_of_licenses_at_a_time(
    ada: Person, admin: Admin, product: str, tiers: dict[str, str]
) -> None:
    expected = {ada.activation_id}
    for n in range(3):  # three more licenses, of other tiers (no sibling is revoked)
        tier = tiers["free" if n % 2 else "enterprise"]
        body = {"productId": product, "tierId": tier, "customerId": ada.customer_id}
        key = admin("POST", "/license-keys", {**body, "perpetual": True}).json["keyToken"]
        activated = invoke("POST", ACTIVATE, body={"keyToken": key, "machineId": f"m-{n}"})
        expected.add(activated.json["activationId"])
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = invoke("GET", "/user/activations", token=ada.token, query=query).json
        seen += [m["activationId"] for m in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and set(seen) >= expected


def test_a_person_frees_the_seat_of_their_machine(ada: Person, admin: Admin) -> None:
    path = f"/user/activations/{ada.activation_id}/deactivate"
    freed = invoke("POST", path, token=ada.token)
    assert freed.status == 200 and freed.json == {"deactivated": True}
    assert admin("GET", f"/license-keys/{ada.license_id}").json["activeSeats"] == 0
    assert ActivationRecord.count(ada.license_id) == 0
    [entry] = [a for a in AuditRecord.query(ada.license_id) if a.action == "activation.deactivated"]
    assert entry.actor == claims_of(ada.token)["sub"]  # an access token names no email
    again = invoke("POST", path, token=ada.token)
    assert again.status == 404 and again.json["code"] == "ACTIVATION_NOT_FOUND"


def test_another_persons_machine_answers_as_one_that_does_not_exist(
    ada: Person, bob: Person, admin: Admin
) -> None:
    before = snapshot()
    other = invoke("POST", f"/user/activations/{bob.activation_id}/deactivate", token=ada.token)
    missing_id = "f" * 40
    missing = invoke("POST", f"/user/activations/{missing_id}/deactivate", token=ada.token)
    assert other.status == 404 and other.json["code"] == "ACTIVATION_NOT_FOUND"
    same_answer(other, missing, (bob.activation_id, missing_id))
    assert snapshot() == before
    assert admin("GET", f"/license-keys/{bob.license_id}").json["activeSeats"] == 1


# Your license key


def validate(key: str) -> dict[str, Any]:
    answer = invoke("POST", "/license-keys/validate", body={"keyToken": key})
    assert answer.status == 200, answer.text
    result: dict[str, Any] = answer.json
    return result


def test_a_person_gets_a_fresh_key_and_their_other_keys_stay_valid(ada: Person) -> None:
    path = f"/user/licenses/{ada.license_id}/key"
    answer = invoke("GET", path, token=ada.stepped_up)
    assert answer.status == 200, answer.text
    fresh = answer.json["keyToken"]
    assert fresh != ada.key_token and answer.json["licenseId"] == ada.license_id
    assert validate(fresh)["code"] == "VALID"
    assert validate(ada.key_token)["code"] == "VALID"  # not revoked, not superseded
    claims = validate(fresh)["claims"]
    old = validate(ada.key_token)["claims"]
    assert claims["exp"] == old["exp"] and claims["features"] == old["features"]
    assert claims["gen"] == old["gen"] + 1
    record = LicenseRecord.get(ada.license_id)
    assert record.min_generation == 1 and record.generation == 2
    [entry] = [a for a in AuditRecord.query(ada.license_id) if a.action == "license.regenerated"]
    assert entry.actor == claims_of(ada.token)["sub"] and entry.details["revokePrevious"] is False
    heartbeat_still_works = invoke(
        "POST", ACTIVATE, body={"keyToken": ada.key_token, "machineId": "ada@example.com-m1"}
    )
    assert heartbeat_still_works.status == 200


def test_a_fresh_key_needs_a_recent_strong_login(ada: Person) -> None:
    before = snapshot()
    answer = invoke("GET", f"/user/licenses/{ada.license_id}/key", token=ada.token)
    assert answer.status == 401 and answer.json["code"] == "STEP_UP_REQUIRED"
    assert 'acr_values="mfa"' in answer.headers["www-authenticate"]
    assert snapshot() == before


def test_another_persons_license_key_answers_as_a_license_that_does_not_exist(
    ada: Person, bob: Person
) -> None:
    before = snapshot()
    other = invoke("GET", f"/user/licenses/{bob.license_id}/key", token=ada.stepped_up)
    missing_id = f"{bob.license_id}x"
    missing = invoke("GET", f"/user/licenses/{missing_id}/key", token=ada.stepped_up)
    assert other.status == 404 and other.json["code"] == "LICENSE_NOT_FOUND"
    same_answer(other, missing, (bob.license_id, missing_id))
    assert snapshot() == before


def test_no_key_for_a_license_or_an_identity_that_is_not_active(ada: Person, admin: Admin) -> None:
    path = f"/user/licenses/{ada.license_id}/key"
    admin("POST", f"/customers/{ada.customer_id}/deactivate", {"reason": "left"})
    deactivated = invoke("GET", path, token=ada.stepped_up)
    assert deactivated.status == 409 and deactivated.json["code"] == "IDENTITY_DEACTIVATED"
    admin("POST", f"/customers/{ada.customer_id}/reactivate", {})
    admin("POST", f"/license-keys/{ada.license_id}/revoke", {"reason": "refund"})
    before = snapshot()
    revoked = invoke("GET", path, token=ada.stepped_up)
    assert revoked.status == 409 and revoked.json["code"] == "LICENSE_NOT_ACTIVE"
    assert snapshot() == before
