"""``licensing licenses``: the bulk issue's checks before the first write, --dry-run,
--create-customers, the step-up hint in bulk, audit's exit codes. The API is a fake
behind httpx's mock transport that keeps what it is sent (no sockets)."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from licensing_cli import context
from licensing_cli.errors import Exit
from licensing_cli.main import main

from tests.unit.test_cli_local import write_state

ENV = {"LICENSING_URL": "https://licensing.test", "LICENSING_TOKEN": "t0ken", "COLUMNS": "250"}
STEP_UP = (
    'Bearer error="insufficient_user_authentication", '
    'error_description="needs MFA", acr_values="mfa", max_age=300'
)
HEADER = "customer,product,tier,expiresAt\n"


def problem(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"type": "about:blank", "title": code, "status": status, "code": code, "detail": code}
    headers["content-type"] = "application/problem+json"
    return httpx.Response(status, headers=headers, json=body)


@dataclass
class FakeApi:
    """Products App (tiers pro, free); customers ada (active), bob (deactivated)."""

    customers: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"customerId": "cus_ada", "email": "ada@example.com", "status": "active"},
            {"customerId": "cus_bob", "email": "bob@example.com", "status": "deactivated"},
        ]
    )
    licenses: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    step_up: bool = False
    audit: str = "consistent"

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.path)
        self.requests.append((request.method, path))
        body = json.loads(request.content) if request.content else {}
        parts = path.strip("/").split("/")
        match request.method, parts:
            case "GET", ["products"]:
                return httpx.Response(200, json={"items": [self.product()], "nextCursor": None})
            case "GET", ["products", "prod_app"]:
                return httpx.Response(200, json=self.product())
            case "GET", ["products", "prod_app", "tiers"]:
                tiers = [{"tierId": f"tier_{c}", "code": c} for c in ("pro", "free")]
                return httpx.Response(200, json={"items": tiers})
            case "GET", ["tenants", _, "customers"]:
                return httpx.Response(200, json={"items": self.customers, "nextCursor": None})
            case "GET", ["customers", customer_id]:
                found = [c for c in self.customers if c["customerId"] == customer_id]
                return httpx.Response(200, json=found[0]) if found else problem(404, "NOT_FOUND")
            case "POST", ["customers"]:
                record = {**body, "customerId": f"cus_{uuid.uuid4().hex[:6]}", "status": "active"}
                self.customers.append(record)
                return httpx.Response(201, json=record)
            case "POST", ["license-keys"]:
                if self.step_up:
                    return problem(401, "STEP_UP_REQUIRED", **{"www-authenticate": STEP_UP})
                lic = {**body, "licenseId": f"lic_{len(self.licenses)}", "keyToken": "a.b.c"}
                lic.setdefault("expiresAt", "2126-01-01T00:00:00Z")
                self.licenses.append(lic)
                fields = ("licenseId", "keyToken", "expiresAt")  # a LicenseKey, no more
                return httpx.Response(201, json={k: lic[k] for k in fields})
            case "POST", ["license-keys", _, "audit"]:
                differences = [{"claim": "tier", "inToken": "a", "expected": "b"}]
                report = {"status": self.audit, "differences": []}
                if self.audit == "drift":
                    report["differences"] = differences
                return httpx.Response(200, json=report)
            case _:
                return problem(404, "ROUTE_NOT_FOUND")

    @staticmethod
    def product() -> dict[str, Any]:
        return {"productId": "prod_app", "code": "App"}


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    def message(self) -> str:
        return " ".join(self.err.split())


def cli(api: FakeApi, *args: str, env: dict[str, str] | None = None) -> Run:
    out, err = io.StringIO(), io.StringIO()
    transport = httpx.MockTransport(api.handle)
    code = main(list(args), env=env or ENV, stdout=out, stderr=err, transport=transport)
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


def csv_file(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    source = tmp_path / "rows.csv"
    source.write_text(header + "".join(row + "\n" for row in rows))
    return source


def journal(source: Path) -> Path:
    return source.with_name(source.name + ".journal.jsonl")


# --- every row checked before the first write ------------------------------------


def test_bad_rows_in_the_middle_are_all_reported_and_nothing_is_issued(
    api: FakeApi, tmp_path: Path
) -> None:
    source = csv_file(
        tmp_path,
        "ada@example.com,App,pro,+30d",  # line 2: fine
        "ada@example.com,App,gold,+30d",  # 3: no such tier
        "cus_ada,App,free,perpetual",  # 4: fine (an id)
        "nobody@example.com,App,pro,+30d",  # 5: no such customer
        "ada@example.com,Nope,pro,+30d",  # 6: no such product
        "cus_missing,App,pro,+30d",  # 7: no customer with that id
        "bob@example.com,App,pro,+30d",  # 8: deactivated
        "ADA@example.com,prod_app,tier_pro,2099-01-01",  # 9: fine (any form of the email)
    )
    run = cli(api, "licenses", "issue", "--from", str(source))
    assert run.code == Exit.USAGE == 2, run
    message = run.message()
    assert "5 bad row(s), nothing done" in message
    for expected in (
        "line 3: no tier 'gold' in product prod_app",
        "line 5: no customer with email nobody@example.com in tenant default",
        "line 6: no product with id or code 'Nope'",
        "line 7: no customer cus_missing",
        "line 8: customer bob@example.com is deactivated",
    ):
        assert expected in message
    for fine in ("line 2:", "line 4:", "line 9:"):
        assert fine not in message
    assert "--create-customers" in message  # an email without identity: the way out
    assert api.writes() == [] and api.licenses == []
    assert not journal(source).exists()
    # the tenant was listed once, whatever the number of emails looked up
    assert api.requests.count(("GET", "/tenants/default/customers")) == 1

    as_json = cli(api, "--json", "licenses", "issue", "--from", str(source))
    assert as_json.code == 2
    lines = as_json.lines()
    assert [(line["line"], line["status"]) for line in lines] == [
        (n, "invalid") for n in (3, 5, 6, 7, 8)
    ]
    assert all(line["error"]["exitCode"] == 2 for line in lines)


def test_malformed_rows_are_all_reported_before_any_lookup(api: FakeApi, tmp_path: Path) -> None:
    source = csv_file(
        tmp_path,
        "ada@example.com,App,pro,someday",
        "ada@example.com,App,pro,+30d",
        "ada@example.com,App,pro,2001-01-01",
        ",App,pro,+30d",
    )
    run = cli(api, "licenses", "issue", "--from", str(source))
    assert run.code == 2
    message = run.message()
    assert "3 bad row(s)" in message
    assert "line 2: not an expiry: 'someday'" in message
    assert "line 4: the expiry 2001-01-01T23:59:59Z is in the past" in message
    assert "line 5: customer, product and tier are required" in message
    assert api.requests == []


def test_dry_run_looks_everything_up_and_writes_nothing(api: FakeApi, tmp_path: Path) -> None:
    source = csv_file(
        tmp_path,
        "ada@example.com,App,pro,2099-01-31",
        "new@example.com,App,free,perpetual",
        "ada@example.com,App,pro,2099-01-31",  # the same row again
    )
    refused = cli(api, "licenses", "issue", "--from", str(source), "--dry-run")
    assert (
        refused.code == 2 and "line 3: no customer with email new@example.com" in refused.message()
    )

    dry = ("licenses", "issue", "--from", str(source), "--dry-run", "--create-customers")
    run = cli(api, "--json", *dry)
    assert run.code == 0, run
    lines = run.lines()
    assert [(line["line"], line["status"]) for line in lines] == [
        (2, "planned"),
        (3, "planned"),
        (4, "skipped"),
    ]
    assert lines[0]["customerId"] == "cus_ada" and lines[0]["tierId"] == "tier_pro"
    assert lines[0]["expiresAt"] == "2099-01-31T23:59:59Z"
    assert lines[1]["customerId"] is None and lines[1]["createCustomer"] is True
    assert lines[1]["perpetual"] is True and lines[2]["duplicateOfRow"] == 2
    assert "2 license(s) would be issued, 1 customer(s) created" in run.message()
    assert "nothing was written" in run.message()

    table = cli(api, *dry)
    assert table.code == 0 and "(new)" in table.out and "cus_ada" in table.out
    assert api.writes() == [] and not journal(source).exists()


def test_create_customers_once_each_after_every_row_resolved_before_any_issue(
    api: FakeApi, tmp_path: Path
) -> None:
    source = csv_file(
        tmp_path,
        "ada@example.com,App,pro,+30d,",
        "grace@example.com,App,pro,+30d,Grace Hopper",
        "Grace@Example.com,App,free,+30d,",
        "alan@example.com,App,free,perpetual,",
        header="email,product,tier,expires,name\n",
    )
    run = cli(api, "--json", "licenses", "issue", "--from", str(source), "--create-customers")
    assert run.code == 0, run
    assert api.writes() == [
        ("POST", "/customers"),
        ("POST", "/customers"),
        *[("POST", "/license-keys")] * 4,
    ]
    created = {
        c["email"]: c for c in api.customers if c["customerId"] not in ("cus_ada", "cus_bob")
    }
    assert set(created) == {"grace@example.com", "alan@example.com"}
    assert created["grace@example.com"]["name"] == "Grace Hopper"
    assert created["alan@example.com"]["name"] == "alan@example.com"  # no name: the email
    assert created["alan@example.com"]["tenantId"] == "default"
    grace = created["grace@example.com"]["customerId"]
    assert [lic["customerId"] for lic in api.licenses] == [
        "cus_ada",
        grace,
        grace,
        created["alan@example.com"]["customerId"],
    ]
    lines = run.lines()
    assert [line["status"] for line in lines] == ["done"] * 4
    assert lines[1]["customerId"] == grace
    assert "created 2 customer(s)" in run.message()

    again = cli(api, "--json", "licenses", "issue", "--from", str(source), "--create-customers")
    assert [line["status"] for line in again.lines()] == ["skipped"] * 4
    assert len(api.writes()) == 6  # nothing more created or issued


def test_a_customer_the_api_would_refuse_stops_everything(api: FakeApi, tmp_path: Path) -> None:
    source = csv_file(
        tmp_path,
        "new@example.com,App,pro,+30d",
        "bad@@example.com,App,pro,+30d",
    )
    run = cli(api, "licenses", "issue", "--from", str(source), "--create-customers")
    assert run.code == 2
    assert "line 3: cannot create customer bad@@example.com: email:" in run.message()
    assert api.writes() == []


# --- the step-up hint, as in single commands --------------------------------------


def test_bulk_explains_step_up_as_the_single_command_does(api: FakeApi, tmp_path: Path) -> None:
    api.step_up = True
    source = csv_file(tmp_path, "ada@example.com,App,pro,+30d")
    bulk = cli(api, "licenses", "issue", "--from", str(source))
    single = cli(api, "licenses", "issue", "--customer", "cus_ada", "--product", "App",
                 "--tier", "pro", "--expires", "+30d")  # fmt: skip
    assert bulk.code == single.code == Exit.STEP_UP
    for run in (bulk, single):
        assert "within the last 5 minutes; run `licensing login --mfa` and try again" in (
            run.message()
        )


def test_with_local_the_hint_is_the_same_command_with_mfa(
    api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--local mints its own token: `licensing login --mfa` does not apply there."""
    api.step_up = True
    data_dir = write_state(tmp_path / "data", "https://licensing.test")

    @dataclass
    class Login:
        access_token: str = "local-token"

    monkeypatch.setattr(context, "password_login", lambda **kwargs: Login())
    source = csv_file(tmp_path, "ada@example.com,App,pro,+30d")
    env = {"COLUMNS": "250", "LICENSING_LOCAL_DIR": str(data_dir)}
    bulk = cli(api, "--local", "licenses", "issue", "--from", str(source), env=env)
    single = cli(api, "--local", "licenses", "issue", "--customer", "cus_ada", "--product",
                 "App", "--tier", "pro", "--expires", "+30d", env=env)  # fmt: skip
    for run in (bulk, single):
        assert run.code == Exit.STEP_UP, run
        assert "run the same command with --mfa and try again" in run.message()
        assert "licensing login" not in run.message()


# --- audit --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [("consistent", Exit.OK), ("encrypted", Exit.OK), ("drift", Exit.DRIFT)],
)
def test_audit_exit_codes(api: FakeApi, status: str, code: int) -> None:
    api.audit = status
    assert cli(api, "licenses", "audit", "lic_1").code == code
    run = cli(api, "--json", "licenses", "audit", "lic_1")
    assert run.code == code and run.lines()[0]["status"] == status
    assert Exit.DRIFT == 6


def test_bulk_only_options_need_a_file(api: FakeApi) -> None:
    run = cli(api, "licenses", "issue", "--customer", "cus_ada", "--dry-run")
    assert run.code == 2 and "go with --from" in run.err
    assert api.requests == []


# --- one license: names pass through to the API ------------------------------------


@dataclass
class IssuingApi(FakeApi):
    """The fake, answering an issuance as the API does: whose license it is, and whether
    the email's identity was created for it."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)
        if (request.method, request.url.path, response.status_code) != (
            "POST", "/license-keys", 201
        ):  # fmt: skip
            return response
        body = json.loads(request.content)
        whose = {
            "customerId": body.get("customerId", "cus_new"),
            "customerCreated": "customerEmail" in body,
        }
        return httpx.Response(201, json={**response.json(), **whose})


def test_one_issue_sends_the_names_as_given_and_looks_nothing_up() -> None:
    api = IssuingApi()
    run = cli(api, "licenses", "issue", "--customer", "Alan@Example.com", "--product", "App",
              "--tier", "pro", "--perpetual", "--tenant", "tnt_1")  # fmt: skip
    assert run.code == Exit.OK, run
    assert api.requests == [("POST", "/license-keys")]
    assert {k: v for k, v in api.licenses[0].items() if k not in ("licenseId", "keyToken", "expiresAt")} == {
        "productId": "App", "tierId": "pro", "customerEmail": "Alan@Example.com",
        "tenantId": "tnt_1", "perpetual": True,
    }  # fmt: skip
    assert "cus_new (created)" in run.out
    by_id = cli(api, "--json", "licenses", "issue", "--customer", "cus_ada", "--product", "prod_app",
                "--tier", "tier_pro", "--expires", "+30d")  # fmt: skip
    assert by_id.code == Exit.OK, by_id
    sent = api.licenses[1]
    assert (sent["productId"], sent["tierId"], sent["customerId"]) == (
        "prod_app",
        "tier_pro",
        "cus_ada",
    )
    assert "customerEmail" not in sent and "tenantId" not in sent
    assert json.loads(by_id.out)["customerCreated"] is False


def test_one_issue_shows_an_older_answer_without_its_customer(api: FakeApi) -> None:
    run = cli(api, "licenses", "issue", "--customer", "cus_ada", "--product", "App", "--tier",
              "pro", "--perpetual")  # fmt: skip
    assert run.code == Exit.OK, run
    assert "lic_0" in run.out and "Customer" in run.out
