"""Issue 20 over HTTP, against the local server: a machine activated by the SDK says its
host name, platform and app version, which its license's activations and its holder's
``/user/activations`` show; the holder frees the seat; the searches find the license
and its identity, by HTTP and by the CLI."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from licensing_cli.main import main
from licensing_client import LicensingClient

from local.aws import access_token, claims_of, cognito_client, with_mfa
from local.state import Account, load_state
from tests.e2e.client import LocalServer

pytestmark = pytest.mark.e2e
PRODUCT = "Rdn.Identity"


@dataclass(frozen=True)
class Holder:
    token: str
    email: str
    customer_id: str
    license_id: str
    key_token: str


def new_person(server: LocalServer) -> tuple[str, str]:
    """An account of the local pool nobody else uses: its email and access token."""
    state = load_state(server.data_dir)
    email = f"holder-{uuid.uuid4().hex[:8]}@example.com"
    account = Account(email, f"Aa1!{uuid.uuid4().hex}", (), "")
    cognito = cognito_client(state.aws_endpoint)
    cognito.admin_create_user(
        UserPoolId=state.user_pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=state.user_pool_id, Username=email, Password=account.password, Permanent=True
    )
    return email, access_token(state.aws_endpoint, state.user_pool_id, state.client_id, account)


@pytest.fixture(scope="module")
def holder(local_server: LocalServer) -> Holder:
    """A person bound to an identity (an administrator set its subject) holding a Pro
    license of the demo product (issued by codes)."""
    email, token = new_person(local_server)
    admin = local_server.admin_token
    created = local_server.request(
        "POST",
        "/customers",
        token=admin,
        json_body={"email": email, "name": "Grace Holder", "subject": claims_of(token)["sub"]},
    )
    assert created.status == 201, created
    issued = local_server.request(
        "POST",
        "/license-keys",
        token=admin,
        json_body={
            "productId": PRODUCT,
            "tierId": "pro",
            "customerId": created.body["customerId"],
            "expiresAt": "2099-01-01T00:00:00Z",
        },
    )
    assert issued.status == 201, issued
    return Holder(
        token,
        email,
        created.body["customerId"],
        issued.body["licenseId"],
        issued.body["keyToken"],
    )


def test_a_machine_says_who_it_is_and_its_holder_frees_its_seat(
    local_server: LocalServer, holder: Holder, tmp_path: Path
) -> None:
    client = LicensingClient(
        local_server.base_url, product=PRODUCT, data_dir=tmp_path, app_version="7.1.0"
    )
    client.activate(holder.key_token, machine_id=f"e2e-{uuid.uuid4().hex}")
    activation_id = client.activation.activation_id if client.activation else None
    listed = local_server.request(
        "GET", f"/license-keys/{holder.license_id}/activations", token=local_server.admin_token
    )
    assert listed.status == 200, listed
    [machine] = listed.body["items"]
    assert machine["hostname"] and machine["platform"]  # the SDK sent this machine's
    assert machine["appVersion"] == "7.1.0" and machine["dead"] is False
    assert machine["lastHeartbeatAt"] and machine["activationId"] == activation_id

    mine = local_server.request("GET", "/user/activations", token=holder.token)
    assert mine.status == 200, mine
    [own] = mine.body["items"]
    assert {k: own[k] for k in machine} == machine
    assert own["licenseId"] == holder.license_id and own["productCode"] == PRODUCT

    freed = local_server.request(
        "POST", f"/user/activations/{activation_id}/deactivate", token=holder.token
    )
    assert freed.status == 200 and freed.body == {"deactivated": True}, freed
    license = local_server.request(
        "GET", f"/license-keys/{holder.license_id}", token=local_server.admin_token
    )
    assert license.body["activeSeats"] == 0
    assert local_server.request("GET", "/user/activations", token=holder.token).body["items"] == []


def test_the_holder_gets_a_fresh_key_after_stepping_up(
    local_server: LocalServer, holder: Holder
) -> None:
    path = f"/user/licenses/{holder.license_id}/key"
    challenged = local_server.request("GET", path, token=holder.token)
    assert challenged.status == 401 and challenged.body["code"] == "STEP_UP_REQUIRED"
    fresh = local_server.request("GET", path, token=with_mfa(holder.token))
    assert fresh.status == 200, fresh
    for key in (fresh.body["keyToken"], holder.key_token):  # both keep working
        answer = local_server.request("POST", "/license-keys/validate", json_body={"keyToken": key})
        assert answer.body["code"] == "VALID", answer


def test_the_searches_find_the_license_and_its_identity(
    local_server: LocalServer, holder: Holder, tmp_path: Path
) -> None:
    admin = local_server.admin_token
    found = local_server.request(
        "GET",
        "/license-keys?productId=rdn.identity&tierId=PRO&status=active"
        "&expiresAfter=2098-12-31T00:00:00Z&expiresBefore=2099-01-02T00:00:00Z",
        token=admin,
    )
    assert found.status == 200, found
    assert holder.license_id in [item["licenseId"] for item in found.body["items"]]
    by_email = local_server.request(
        "GET", f"/license-keys?email={holder.email.upper()}", token=admin
    )
    assert [item["licenseId"] for item in by_email.body["items"]] == [holder.license_id]
    people = local_server.request("GET", "/customers?tenantId=default&q=GRACE%20hol", token=admin)
    assert holder.customer_id in [item["customerId"] for item in people.body["items"]]

    env = {"LICENSING_URL": local_server.base_url, "LICENSING_TOKEN": admin}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    for args, key, wanted in (
        (("licenses", "list", "--customer", holder.email), "licenseId", holder.license_id),
        (("customers", "list", "--email", holder.email), "customerId", holder.customer_id),
    ):
        out, err = io.StringIO(), io.StringIO()
        code = main(["--json", *args], env=env, stdout=out, stderr=err)
        assert code == 0, err.getvalue()
        assert [item[key] for item in json.loads(out.getvalue())["items"]] == [wanted]
