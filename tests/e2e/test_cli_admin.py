"""The admin CLI (``licensing``) against the real local server.

Most commands run in-process through ``main(argv, env=..., stdout=..., stderr=...)``;
a few run as subprocesses to prove the entry points and ``--local`` work end to end.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from licensing_cli.main import main

from local.aws import access_token, with_mfa
from local.state import load_state
from tests.e2e.client import ROOT, LocalServer, hermetic_env

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


Cli = Callable[..., Run]


def run_cli(env: dict[str, str], *args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), env=env, stdout=out, stderr=err)
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def config_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-config")


@pytest.fixture(scope="module")
def mfa_token(local_server: LocalServer) -> str:
    """The admin's token as if just signed in with MFA: step-up actions accept it."""
    return with_mfa(local_server.admin_token)


@pytest.fixture(scope="module")
def plain_user_token(local_server: LocalServer) -> str:
    """A token of the local user outside the admin group (minted in-process: fast)."""
    state = load_state(local_server.data_dir)
    return access_token(
        state.aws_endpoint, state.user_pool_id, state.client_id, state.accounts["user"]
    )


@pytest.fixture(scope="module")
def cli_env(local_server: LocalServer, config_home: Path, mfa_token: str) -> dict[str, str]:
    return {
        "LICENSING_URL": local_server.base_url,
        "LICENSING_TOKEN": mfa_token,
        "XDG_CONFIG_HOME": str(config_home),
        "COLUMNS": "200",
    }


@pytest.fixture(scope="module")
def cli(cli_env: dict[str, str]) -> Cli:
    def run(*args: str, **env: str) -> Run:
        return run_cli({**cli_env, **env}, *args)

    return run


def ok(run: Run) -> Run:
    assert run.code == 0, f"exit {run.code}\nstdout:\n{run.out}\nstderr:\n{run.err}"
    return run


@dataclass(frozen=True)
class Catalog:
    product_id: str
    code: str


@pytest.fixture(scope="module")
def catalog(cli: Cli) -> Catalog:
    """A product of our own: features sso, audit_log, banner (display only), export;
    tiers base ⊂ plus, plus asking step-up for export."""
    code = f"Cli.{uuid.uuid4().hex[:8]}"
    product = ok(cli("--json", "products", "create", code, "CLI product")).json()
    for key, extra in (
        ("sso", ()),
        ("audit_log", ()),
        ("banner", ("--display-only",)),
        ("export", ()),
    ):
        ok(cli("features", "add", code, key, key.title(), *extra))
    ok(cli("tiers", "create", code, "base", "Base", "--features", "sso", "--max-users", "2",
           "--monthly-price", "0"))  # fmt: skip
    ok(
        cli(
            "tiers", "create", code, "plus", "Plus", "--includes", "base",
            "--features", "audit_log,banner,export", "--step-up", "export=mfa:300",
            "--monthly-price", "29.90", "--currency", "EUR", "--max-users", "5",
        )
    )  # fmt: skip
    return Catalog(product["productId"], code)


def new_customer(cli: Cli, prefix: str = "cli") -> dict[str, Any]:
    email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
    data: dict[str, Any] = ok(
        cli("--json", "customers", "create", "--email", email, "--name", prefix)
    ).json()
    return data


def license_count(server: LocalServer, customer_id: str) -> int:
    reply = server.request(
        "GET", f"/customers/{customer_id}/license-keys?limit=100", token=server.admin_token
    )
    assert reply.status == 200, reply
    return len(reply.body["items"])


# --- reading and --json ---------------------------------------------------------------


def test_products_list_json_is_the_api_document(cli: Cli, local_server: LocalServer) -> None:
    page = ok(cli("products", "list", "--json", "--limit", "100")).json()  # option after command
    assert set(page) == {"items", "nextCursor"}
    everything = ok(cli("--json", "products", "list", "--all")).json()
    codes = {item["code"] for item in everything["items"]}
    assert "Rdn.Identity" in codes
    table = ok(cli("products", "list", "--all")).out
    assert "Rdn.Identity" in table and "Product id" in table


def test_tier_tree_shows_inheritance_features_and_step_up(cli: Cli, catalog: Catalog) -> None:
    tree = ok(cli("tiers", "show", catalog.code, "plus")).out
    assert "Plus (plus)" in tree
    assert "includes Base (base)" in tree
    assert tree.index("includes Base") < tree.index("sso")  # inherited features nest below
    assert "banner (display only)" in tree
    assert "export (step-up: mfa within 5 minutes)" in tree
    assert "enforced (in tokens): audit_log, export, sso" in tree
    raw = ok(cli("--json", "tiers", "show", catalog.product_id, "plus")).json()
    assert raw["monthlyPrice"] == 2990 and raw["currency"] == "EUR"
    assert len(raw["resolved"]["chain"]) == 2
    listing = ok(cli("tiers", "list", catalog.code)).out
    assert "base" in listing and "29.90 EUR" in listing
    shown = ok(cli("products", "show", catalog.code)).out
    assert catalog.code in shown and "banner" in shown and "Plus" in shown


def test_seeded_demo_tree(cli: Cli) -> None:
    tree = ok(cli("tiers", "show", "Rdn.Identity", "enterprise")).out
    assert "includes Pro (pro)" in tree and "includes Free (free)" in tree


def test_issue_then_show_round_trip_as_json(cli: Cli, catalog: Catalog) -> None:
    customer = new_customer(cli)
    issued = ok(
        cli(
            "--json", "licenses", "issue", "--customer", customer["email"],
            "--product", catalog.code, "--tier", "base", "--expires", "+30d",
        )
    ).json()  # fmt: skip
    assert issued["licenseId"].startswith("lic_") and issued["keyToken"].count(".") == 2
    shown = ok(cli("--json", "licenses", "show", issued["licenseId"])).json()
    assert shown["customerId"] == customer["customerId"]
    assert shown["productId"] == catalog.product_id and shown["status"] == "active"
    listed = ok(cli("--json", "licenses", "list", "--customer", customer["customerId"])).json()
    assert [item["licenseId"] for item in listed["items"]] == [issued["licenseId"]]
    human = ok(cli("licenses", "show", issued["licenseId"])).out
    assert "active" in human and catalog.code in human
    suspended = ok(cli("licenses", "suspend", issued["licenseId"], "--reason", "unpaid")).out
    assert "suspended" in suspended and "unpaid" in suspended
    history = ok(cli("--json", "licenses", "history", issued["licenseId"])).json()
    assert [entry["action"] for entry in history["items"]][:2] == [
        "license.suspended",
        "license.issued",
    ]


def test_issue_to_a_new_email_by_codes_creates_its_identity_once(
    cli: Cli, catalog: Catalog
) -> None:
    email = f"fresh-{uuid.uuid4().hex[:8]}@example.com"
    created = ok(
        cli(
            "--json", "licenses", "issue", "--customer", email,
            "--product", catalog.code.upper(), "--tier", "BASE", "--perpetual",
        )
    ).json()  # fmt: skip
    assert created["customerCreated"] is True and created["customerId"].startswith("cus_")
    again = ok(
        cli(
            "licenses", "issue", "--customer", email.upper(),
            "--product", catalog.code, "--tier", "base", "--expires", "+30d",
        )
    ).out  # fmt: skip
    assert created["customerId"] in again and "(created)" not in again
    shown = ok(cli("--json", "customers", "show", created["customerId"])).json()
    assert (shown["email"], shown["kind"], shown["tenantId"]) == (email, "human", "default")


def test_audit_drift_is_shown_as_a_diff(cli: Cli, catalog: Catalog) -> None:
    customer = new_customer(cli)
    license_id = ok(
        cli(
            "--json", "licenses", "issue", "--customer", customer["customerId"],
            "--product", catalog.code, "--tier", "base", "--perpetual",
        )
    ).json()["licenseId"]  # fmt: skip
    assert "consistent" in ok(cli("licenses", "audit", license_id)).out
    ok(cli("tiers", "update", catalog.code, "base", "--add-feature", "export", "--max-users", "9"))
    try:
        audit = cli("licenses", "audit", license_id)
        assert audit.code == 6, audit  # drift has its own exit code: scripts can see it
        report = audit.out
        assert "drift: 2 claim(s) differ" in report
        rows = {line.split("│")[1].strip(): line for line in report.splitlines() if "│" in line}
        assert "+export" in rows["features"]
        assert "2 → 9" in rows["limits.maxUsers"]
        assert f"licensing licenses regenerate {license_id}" in audit.err
        raw = cli("--json", "licenses", "audit", license_id)
        assert raw.code == 6 and raw.json()["status"] == "drift"
        ok(cli("licenses", "regenerate", license_id))
        assert "consistent" in ok(cli("licenses", "audit", license_id)).out
    finally:
        ok(cli("tiers", "update", catalog.code, "base", "--features", "sso", "--max-users", "2"))


# --- exit codes -------------------------------------------------------------------


def test_exit_codes_for_401_403_404_422(cli: Cli, plain_user_token: str) -> None:
    unauthenticated = cli("products", "list", LICENSING_TOKEN="not-a-jwt")
    assert unauthenticated.code == 3, unauthenticated
    assert "HTTP 401" in unauthenticated.err and "licensing login" in unauthenticated.err

    forbidden = cli("products", "list", LICENSING_TOKEN=plain_user_token)
    assert forbidden.code == 3, forbidden
    assert "NOT_AN_ADMIN" in forbidden.err and "HTTP 403" in forbidden.err

    missing = cli("--json", "licenses", "show", "lic_000000000000000000000000")
    assert missing.code == 1, missing
    assert missing.json()["status"] == 404  # --json: the problem document on stdout
    assert "HTTP 404" in missing.err

    invalid = cli("tiers", "create", "Rdn.Identity", "bad", "Bad", "--currency", "euro",
                  "--monthly-price", "9")  # fmt: skip
    assert invalid.code == 1, invalid
    assert "VALIDATION_FAILED" in invalid.err and "body.currency" in invalid.err

    usage = cli("licenses", "issue", "--customer", "x")
    assert usage.code == 2 and "missing --product, --tier" in usage.err
    assert cli("licenses", "frobnicate").code == 2


def test_unreachable_and_unconfigured(cli: Cli, config_home: Path) -> None:
    down = cli("products", "list", LICENSING_URL="http://127.0.0.1:9")
    assert down.code == 4 and "cannot reach the API" in down.err
    nothing = run_cli({"XDG_CONFIG_HOME": str(config_home / "empty")}, "products", "list")
    assert nothing.code == 2 and "no API URL" in nothing.err and "--local" in nothing.err


def test_routes_of_other_issues_show_the_server_answer(cli: Cli) -> None:
    """deactivate/reactivate/usage are wired to routes still being written: until they
    exist, the server's 404 is shown and explained (exit 1), and nothing crashes."""
    customer = new_customer(cli)
    for args in (
        ("customers", "deactivate", customer["customerId"], "--reason", "left"),
        ("customers", "reactivate", customer["email"]),
        ("usage", "show", customer["customerId"]),
    ):
        result = cli(*args)
        if result.code == 0:  # the route landed meanwhile
            continue
        assert result.code in (1, 5), result
        assert "Traceback" not in result.err
        if "ROUTE_NOT_FOUND" in result.err:
            assert "older than this CLI" in result.err


def test_step_up_challenges_of_the_server_are_explained(
    cli: Cli, catalog: Catalog, local_server: LocalServer
) -> None:
    """tier.update demands a recent MFA login: a plain admin token gets the RFC 9470
    challenge, explained, exit 5; --local --mfa satisfies it."""
    plain = cli(
        "tiers",
        "update",
        catalog.code,
        "base",
        "--name",
        "Base",
        LICENSING_TOKEN=local_server.admin_token,
    )
    assert plain.code == 5, plain
    message = " ".join(plain.err.split())
    assert "this action needs a stronger login (MFA) within the last 15 minutes" in message
    assert "run `licensing login --mfa`" in message
    local = ("--local", "--data-dir", str(local_server.data_dir))
    without = cli(*local, "tiers", "update", catalog.code, "base", "--name", "Base")
    assert without.code == 5 and "the same command with --mfa" in " ".join(without.err.split())
    ok(cli(*local, "--mfa", "tiers", "update", catalog.code, "base", "--name", "Base"))
    who = ok(cli(*local, "--mfa", "--json", "whoami")).json()
    assert who["acr"] == "mfa" and who["mfa"] is True


def test_activations_list_and_force_deactivate(
    cli: Cli, catalog: Catalog, local_server: LocalServer
) -> None:
    customer = new_customer(cli, "seats")
    key = ok(
        cli(
            "--json", "licenses", "issue", "--customer", customer["customerId"],
            "--product", catalog.code, "--tier", "plus", "--expires", "+30d",
        )
    ).json()  # fmt: skip
    activated = local_server.request(
        "POST",
        "/license-activations/activate",
        json_body={"keyToken": key["keyToken"], "machineId": "build-agent-7"},
    )
    assert activated.status == 201, activated
    listing = ok(cli("activations", "list", key["licenseId"]))
    assert "build-agent-7" in listing.out and "seats: 1 of 5 in use" in listing.out
    activation_id = activated.body["activationId"]
    assert activation_id in listing.out
    forced = ok(cli("activations", "force-deactivate", key["licenseId"], activation_id))
    assert "its seat is free" in forced.out
    again = cli("activations", "force-deactivate", key["licenseId"], activation_id)
    assert again.code == 1 and "ACTIVATION_NOT_FOUND" in again.err
    after = ok(cli("--json", "activations", "list", key["licenseId"])).json()
    assert after["activeSeats"] == 0


def test_keys_show_the_current_key_and_rotation(cli: Cli, local_server: LocalServer) -> None:
    jwks = local_server.request("GET", "/.well-known/jwks.json").body
    shown = ok(cli("keys", "show", LICENSING_TOKEN="")).out
    assert jwks["keys"][0]["kid"] in shown and "current (signs)" in shown
    assert "no rotation in progress" in shown or "rotation in progress" in shown
    assert "RS256" in shown and "issuer" in shown
    assert ok(cli("--json", "keys", "show")).json() == jwks


# --- bulk ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vault(cli: Cli, catalog: Catalog) -> str:
    """A sensitive tier of the catalog: issuing its licenses needs a recent MFA login, so
    a plain admin token gets a row refused by the server after the checks passed."""
    ok(cli("tiers", "create", catalog.code, "vault", "Vault", "--includes", "base", "--sensitive",
           "--annual-price", "990"))  # fmt: skip
    return "vault"


def test_bulk_issue_checks_every_row_first_then_resumes_nothing_twice(
    cli: Cli, catalog: Catalog, vault: str, local_server: LocalServer, tmp_path: Path
) -> None:
    customers = [new_customer(cli, f"bulk{n}") for n in range(4)]
    rows = [
        f"{customers[0]['email']},{catalog.code},base,2030-01-31",
        f"{customers[1]['customerId']},{catalog.product_id},plus,perpetual",
        f"nobody-{uuid.uuid4().hex[:6]}@example.com,{catalog.code},{vault},+30d",
        f"{customers[3]['email']},{catalog.code},plus,+1y",
    ]
    source = tmp_path / "customers.csv"
    source.write_text("customer,product,tier,expiresAt\n" + "\n".join(rows) + "\n")
    journal = source.with_name("customers.csv.journal.jsonl")

    checked = cli("licenses", "issue", "--from", str(source))
    assert checked.code == 2, checked  # a bad row in the middle: nothing issued
    assert "line 4: no customer with email nobody-" in " ".join(checked.err.split())
    assert not journal.exists()
    assert all(license_count(local_server, c["customerId"]) == 0 for c in customers)

    source.write_text(source.read_text().replace(rows[2].split(",")[0], customers[2]["email"]))
    dry = ok(cli("--json", "licenses", "issue", "--from", str(source), "--dry-run"))
    assert [line["status"] for line in dry.lines()] == ["planned"] * 4
    assert dry.lines()[2]["customerId"] == customers[2]["customerId"]
    assert not journal.exists()
    assert all(license_count(local_server, c["customerId"]) == 0 for c in customers)

    # the sensitive tier's row is refused by the server (no MFA): the run stops there
    first = cli(
        "--json", "licenses", "issue", "--from", str(source),
        LICENSING_TOKEN=local_server.admin_token,
    )  # fmt: skip
    assert first.code == 5, first
    assert [(line["line"], line["status"]) for line in first.lines()] == [
        (2, "done"),
        (3, "done"),
        (4, "failed"),
    ]
    assert "run `licensing login --mfa` and try again" in " ".join(first.err.split())
    assert "1 not attempted" in first.err
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600

    second = ok(cli("--json", "licenses", "issue", "--from", str(source)))  # now with MFA
    lines = second.lines()
    assert [line["status"] for line in lines] == ["skipped", "skipped", "done", "done"]
    assert lines[0]["licenseId"] == first.lines()[0]["licenseId"]  # the journal keeps results
    assert all(line["keyToken"].count(".") == 2 for line in lines)

    third = ok(cli("licenses", "issue", "--from", str(source)))
    assert "0 issued, 4 skipped" in third.err
    for customer in customers:
        assert license_count(local_server, customer["customerId"]) == 1


def test_bulk_issue_creates_the_missing_customers_once(
    cli: Cli, catalog: Catalog, local_server: LocalServer, tmp_path: Path
) -> None:
    known = new_customer(cli, "known")
    fresh = f"fresh-{uuid.uuid4().hex[:8]}@example.com"
    source = tmp_path / "new.csv"
    source.write_text(
        "email,tier,name\n"
        f"{known['email']},base,\n"
        f"{fresh},base,Fresh Customer\n"
        f"{fresh.upper()},plus,\n"  # the same address, another form
    )
    bulk = ("--json", "licenses", "issue", "--from", str(source), "--product", catalog.code)
    dry = ok(cli(*bulk, "--expires", "+30d", "--create-customers", "--dry-run")).lines()
    assert [line.get("createCustomer", False) for line in dry] == [False, True, True]
    assert cli("--json", "customers", "show", fresh).code == 1  # the dry run created nothing

    run = ok(cli(*bulk, "--expires", "+30d", "--create-customers"))
    lines = run.lines()
    assert [line["status"] for line in lines] == ["done"] * 3
    created = ok(cli("--json", "customers", "show", fresh)).json()
    assert created["name"] == "Fresh Customer" and "created 1 customer(s)" in run.err
    assert lines[1]["customerId"] == lines[2]["customerId"] == created["customerId"]
    assert license_count(local_server, created["customerId"]) == 2
    assert license_count(local_server, known["customerId"]) == 1


def test_bulk_issue_reconciles_rows_whose_answer_was_lost(
    cli: Cli, catalog: Catalog, vault: str, local_server: LocalServer, tmp_path: Path
) -> None:
    """A crash between the server's answer and the journal line leaves a pending row:
    the re-run finds that license on the server instead of issuing a second one. A
    pending row whose request never reached the server is issued then."""
    answered, refused = new_customer(cli, "lost"), new_customer(cli, "late")
    source = tmp_path / "lost.csv"
    source.write_text(
        f"email,tier,expires\n{answered['email']},plus,+90d\n{refused['email']},{vault},+90d\n"
    )
    bulk = ("--json", "licenses", "issue", "--from", str(source), "--product", catalog.code)
    first = cli(*bulk, LICENSING_TOKEN=local_server.admin_token)  # no MFA: the vault row fails
    assert [line["status"] for line in first.lines()] == ["done", "failed"]
    journal = source.with_name("lost.csv.journal.jsonl")
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [e["state"] for e in entries] == ["pending", "done", "pending", "failed"]
    # simulate the crash: both rows left pending, their outcomes never written
    journal.write_text("".join(json.dumps(e) + "\n" for e in entries if e["state"] == "pending"))

    resumed = ok(cli(*bulk)).lines()
    assert [line["status"] for line in resumed] == ["adopted", "done"]
    assert resumed[0]["licenseId"] == entries[1]["result"]["licenseId"]
    assert license_count(local_server, answered["customerId"]) == 1
    assert license_count(local_server, refused["customerId"]) == 1
    assert [line["status"] for line in ok(cli(*bulk)).lines()] == ["skipped", "skipped"]


def test_bulk_revoke_from_a_file_resumes(
    cli: Cli, catalog: Catalog, local_server: LocalServer, tmp_path: Path
) -> None:
    customer_ids = [new_customer(cli, "revoke")["customerId"] for _ in range(2)]
    license_ids = [
        ok(
            cli(
                "--json", "licenses", "issue", "--customer", customer_id,
                "--product", catalog.code, "--tier", "base", "--expires", "+10d",
            )
        ).json()["licenseId"]
        for customer_id in customer_ids
    ]  # fmt: skip
    ids = tmp_path / "ids.txt"
    ids.write_text(f"# to revoke\n{license_ids[0]}\nlic_unknown\n{license_ids[1]}\n")
    first = cli("licenses", "revoke", "--from", str(ids), "--reason", "contract ended")
    assert first.code == 1 and "1 revoked" in first.err and "LICENSE_NOT_FOUND" in first.err
    ids.write_text(ids.read_text().replace("lic_unknown\n", ""))
    second = ok(
        cli("--json", "licenses", "revoke", "--from", str(ids), "--reason", "contract ended")
    )
    assert [line["status"] for line in second.lines()] == ["skipped", "done"]
    for license_id in license_ids:
        shown = ok(cli("--json", "licenses", "show", license_id)).json()
        assert shown["status"] == "revoked"
        assert shown["statusNote"]["reason"] == "contract ended"


def test_a_bad_csv_is_a_usage_error_before_anything_is_issued(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(
        "customer,product,tier,expiresAt\na@example.com,P,t,someday\nb@example.com,P,t,\n"
    )
    result = cli("licenses", "issue", "--from", str(source))
    assert result.code == 2
    assert "line 2: not an expiry: 'someday'" in result.err and "line 3" in result.err
    assert not source.with_name("bad.csv.journal.jsonl").exists()


# --- credentials --------------------------------------------------------------------


def test_local_mode_and_entry_points_as_subprocesses(
    local_server: LocalServer, tmp_path: Path
) -> None:
    env = {**hermetic_env(), "XDG_CONFIG_HOME": str(tmp_path), "COLUMNS": "200"}
    module = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "licensing_cli", "--local", "--data-dir", str(local_server.data_dir),
         "--json", "products", "list", "--all"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert module.returncode == 0, module.stderr
    assert "Rdn.Identity" in {item["code"] for item in json.loads(module.stdout)["items"]}
    script = Path(sys.executable).with_name("licensing")
    if not script.exists():
        pytest.skip("the console script is not installed (pip install -e .)")
    who = subprocess.run(  # noqa: S603
        [str(script), "whoami", "--local", "--data-dir", str(local_server.data_dir), "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert who.returncode == 0, who.stderr
    assert "license-admins" in json.loads(who.stdout)["groups"]


def test_local_mode_finds_the_server_from_any_directory(
    local_server: LocalServer, tmp_path: Path
) -> None:
    """Outside the repository, --local finds the server through $LICENSING_LOCAL_DIR, or
    through a .local/state.json in the current directory or one of its parents; --mfa
    still finds the repository's `local` package (where the CLI was installed from)."""
    env = {**hermetic_env(), "XDG_CONFIG_HOME": str(tmp_path / "config"), "COLUMNS": "200"}

    def licensing(cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-m", "licensing_cli", "--local", "--json", *args],
            cwd=cwd, env={**env, **extra}, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_env = licensing(
        elsewhere, "products", "list", LICENSING_LOCAL_DIR=str(local_server.data_dir)
    )
    assert by_env.returncode == 0, by_env.stderr
    assert "Rdn.Identity" in {item["code"] for item in json.loads(by_env.stdout)["items"]}

    project = tmp_path / "project"
    (project / ".local").mkdir(mode=0o700, parents=True)
    shutil.copy(local_server.data_dir / "state.json", project / ".local" / "state.json")
    deep = project / "src" / "module"
    deep.mkdir(parents=True)
    found = licensing(deep, "--mfa", "whoami")
    assert found.returncode == 0, found.stderr
    who = json.loads(found.stdout)
    assert "license-admins" in who["groups"] and who["acr"] == "mfa"
    listed = licensing(deep, "products", "list")
    assert listed.returncode == 0 and json.loads(listed.stdout)["items"], listed.stderr

    wrong = licensing(deep, "products", "list", LICENSING_LOCAL_DIR=str(tmp_path / "none"))
    assert wrong.returncode == 2, wrong
    assert f"no {tmp_path / 'none' / 'state.json'}" in wrong.stderr
    assert "LICENSING_LOCAL_DIR" in wrong.stderr


def test_login_caches_a_private_token_and_refuses_an_expired_one(
    local_server: LocalServer, tmp_path: Path
) -> None:
    state = local_server.state()
    admin = state["accounts"]["admin"]
    env = {
        "LICENSING_URL": local_server.base_url,
        "XDG_CONFIG_HOME": str(tmp_path),
        "LICENSING_PASSWORD": admin["password"],
    }
    cognito = ("--client-id", state["client_id"], "--cognito-endpoint", state["aws_endpoint"])
    not_yet = run_cli(env, "products", "list")
    assert not_yet.code == 3 and "not logged in" in not_yet.err

    login = run_cli(
        env, "login", "--username", admin["username"], "--region", "us-east-1", *cognito
    )
    assert login.code == 0, login.err
    assert f"Logged in as {admin['username']}" in login.out
    cache = tmp_path / "licensing" / "tokens" / "default.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    assert ok(run_cli(env, "--json", "products", "list")).json()["items"]
    who = ok(run_cli(env, "--json", "whoami")).json()
    assert who["username"] == admin["username"] and who["mfa"] is False

    # the local pool has no MFA: a login for step-up must fail and not replace the cache
    before = cache.read_text()
    mfa = run_cli(
        env, "login", "--mfa", "--username", admin["username"], "--region", "us-east-1", *cognito
    )
    assert mfa.code == 3 and "did not ask" in mfa.err
    assert cache.read_text() == before

    wrong = run_cli({**env, "LICENSING_PASSWORD": "wrong-Passw0rd!"}, "login", "--username",
                    admin["username"], "--region", "us-east-1", *cognito)  # fmt: skip
    assert wrong.code == 3 and "Cognito refused the login" in wrong.err

    expired = json.loads(before)
    expired["expires_at"] = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    cache.write_text(json.dumps(expired))
    refused = run_cli(env, "products", "list")
    assert refused.code == 3 and "expired at" in refused.err and "licensing login" in refused.err
    assert ok(run_cli(env, "logout")).out.startswith("Logged out")
    assert not cache.exists()


def test_profiles_from_xdg_config(local_server: LocalServer, tmp_path: Path) -> None:
    (tmp_path / "licensing").mkdir()
    (tmp_path / "licensing" / "config.toml").write_text(
        f'[staging]\nurl = "{local_server.base_url}"\n\n[typo]\nurll = "x"\n'
    )
    env = {"XDG_CONFIG_HOME": str(tmp_path), "LICENSING_TOKEN": local_server.admin_token}
    assert ok(run_cli(env, "--profile", "staging", "--json", "products", "list")).json()["items"]
    assert ok(run_cli({**env, "LICENSING_PROFILE": "staging"}, "products", "list")).code == 0
    unknown = run_cli(env, "--profile", "prod", "products", "list")
    assert unknown.code == 2 and "no profile [prod]" in unknown.err
    typo = run_cli(env, "--profile", "typo", "products", "list")
    assert typo.code == 2 and "urll" in typo.err
    assert os.environ.get("LICENSING_TOKEN") is None  # nothing leaked into this process


def test_a_tenant_with_a_provisioning_policy_and_its_summary(cli: Cli, catalog: Catalog) -> None:
    tenant = ok(
        cli(
            "--json", "tenants", "create", "Acme", "--provision-product", catalog.code,
            "--provision-tier", "base", "--provision-days", "30",
        )
    ).json()  # fmt: skip
    assert tenant["provisioning"]["days"] == 30
    email = f"acme-{uuid.uuid4().hex[:8]}@example.com"
    created = ok(
        cli("--json", "customers", "create", "--email", email, "--name", "A",
            "--tenant", tenant["tenantId"])
    ).json()  # fmt: skip
    assert created["provisionedLicense"]["licenseId"].startswith("lic_")
    shown = ok(cli("tenants", "show", tenant["tenantId"])).out
    assert "Provisions tier" in shown and "30" in shown
    summary = ok(cli("tenants", "summary", tenant["tenantId"])).out
    assert "Licenses active" in summary and "1" in summary
    raw = ok(cli("--json", "tenants", "summary", tenant["tenantId"])).json()
    assert raw["identities"]["active"] == 1 and raw["licenses"]["active"] == 1
    assert cli("tenants", "create", "X", "--provision-days", "3").code == 2
