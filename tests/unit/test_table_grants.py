"""The table-grant check cannot pass silently: fed touches its rows do not allow, it fails,
naming route, table and action; IAM's view of each DynamoDB operation is what it checks."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from licensing_core.routes import TableAccess
from licensing_core.settings import get_settings

from tests import table_grants
from tests.table_grants import Recording, Touch, coverage, grants, table_actions, violations

GRANTS: dict[str, dict[str, TableAccess]] = {
    "create_product": {"products": "write", "uniques": "write"},
    "get_product": {"products": "read"},
}


def test_granted_reads_and_writes_pass() -> None:
    touches = [
        Touch("create_product", "products", "PutItem"),
        Touch("create_product", "uniques", "ConditionCheckItem"),
        Touch("get_product", "products", "GetItem"),
        Touch("get_product", "products", "Query"),
    ]
    assert violations(touches, GRANTS) == []


def test_a_table_the_row_does_not_grant_fails() -> None:
    found = violations([Touch("get_product", "audit", "PutItem")], GRANTS)
    assert found == [
        "GET /products/{productId} (get_product): PutItem on table 'audit', "
        "which its row does not grant"
    ]


def test_a_write_on_a_read_grant_fails() -> None:
    found = violations(
        [Touch("get_product", "products", action) for action in ("UpdateItem", "BatchWriteItem")],
        GRANTS,
    )
    assert found == [
        "GET /products/{productId} (get_product): BatchWriteItem on table 'products', "
        "which its row grants read only",
        "GET /products/{productId} (get_product): UpdateItem on table 'products', "
        "which its row grants read only",
    ]


def test_actions_no_grant_allows_and_functions_without_a_row_fail() -> None:
    found = violations(
        [Touch("create_product", "products", "DeleteTable"), Touch("stray", "products", "GetItem")],
        GRANTS,
    )
    assert found == [
        "POST /products (create_product): DeleteTable on table 'products', an action no "
        "table grant allows",
        "stray (no row in the route table): GetItem on table 'products', which its row "
        "does not grant",
    ]


def test_each_operation_needs_the_actions_iam_checks() -> None:
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "t-licenses", "Item": {}}},
            {"Update": {"TableName": "t-activations", "Key": {}}},
            {"Delete": {"TableName": "t-uniques", "Key": {}}},
            {"ConditionCheck": {"TableName": "t-customers", "Key": {}}},
        ]
    }
    assert list(table_actions("TransactWriteItems", transaction)) == [
        ("t-licenses", "PutItem"),
        ("t-activations", "UpdateItem"),
        ("t-uniques", "DeleteItem"),
        ("t-customers", "ConditionCheckItem"),
    ]
    gets = {"TransactItems": [{"Get": {"TableName": "t-tiers", "Key": {}}}]}
    assert list(table_actions("TransactGetItems", gets)) == [("t-tiers", "GetItem")]
    batch: dict[str, Any] = {"RequestItems": {"t-a": [], "t-b": []}}
    assert list(table_actions("BatchWriteItem", batch)) == [
        ("t-a", "BatchWriteItem"),
        ("t-b", "BatchWriteItem"),
    ]
    assert list(table_actions("Query", {"TableName": "t-a", "IndexName": "i"})) == [
        ("t-a", "Query")
    ]
    assert list(table_actions("ListTables", {})) == [("*", "ListTables")]


def test_the_grants_are_the_route_tables_rows() -> None:
    granted = grants()
    assert granted["issue_license"]["idempotency"] == "write"
    assert granted["get_product"] == {"products": "read"}
    assert granted["expire_claims"] == {"claims": "write", "audit": "write"}  # a job
    assert granted["provision_identity"]["tenants"] == "read"  # a trigger
    assert granted["publish_events"] == {}  # reads its stream, no table
    assert granted["jwks"] == {}


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> Recording:
    """A recording of this test's own (the session's stays as the suites leave it)."""
    fresh = Recording()
    monkeypatch.setattr(table_grants, "RECORDING", fresh)
    return fresh


def _call(operation: str, **params: Any) -> None:
    """What botocore tells the hook before a DynamoDB call."""
    table_grants._record(params=params, model=SimpleNamespace(name=operation))


def test_an_invocation_that_touches_an_ungranted_table_fails(recording: Recording) -> None:
    audit = get_settings().table_name("audit")

    def handler(event: Any, context: Any) -> str:
        _call("GetItem", TableName=get_settings().table_name("products"), Key={})
        _call("PutItem", TableName=audit, Item={})
        return "done"

    with pytest.raises(AssertionError) as failure:
        table_grants.attributed("get_product", handler)({}, None)
    expected = (
        "GET /products/{productId} (get_product): PutItem on table 'audit', "
        "which its row does not grant"
    )
    assert str(failure.value) == expected
    assert recording.violations == [expected]
    assert recording.ran == {"get_product"} and recording.calls == 2


def test_a_granted_invocation_returns_and_calls_outside_handlers_are_not_attributed(
    recording: Recording,
) -> None:
    products = get_settings().table_name("products")

    def handler(event: Any, context: Any) -> str:
        _call("Query", TableName=products)
        return "done"

    assert table_grants.attributed("get_product", handler)({}, None) == "done"
    _call("PutItem", TableName=products, Item={})  # a fixture seeding data
    assert recording.touches == {Touch("get_product", "products", "Query")}
    assert recording.violations == [] and recording.calls == 1


def test_coverage_names_the_functions_no_test_ran() -> None:
    recording = Recording(ran={"get_product"}, calls=3)
    assert coverage(recording, GRANTS) == (
        "table grants: 1 of 2 functions run in process, 3 DynamoDB calls checked against "
        "their rows; not run: create_product"
    )


def test_a_table_of_no_known_name_fails_under_its_own_name(recording: Recording) -> None:
    def handler(event: Any, context: Any) -> None:
        _call("GetItem", TableName="another-stack-products", Key={})

    with pytest.raises(AssertionError, match="GetItem on table 'another-stack-products'"):
        table_grants.attributed("get_product", handler)({}, None)


def test_a_swallowed_violation_still_fails_the_session(recording: Recording) -> None:
    session = SimpleNamespace(exitstatus=pytest.ExitCode.OK)
    table_grants.pytest_sessionfinish(session)  # type: ignore[arg-type]
    assert session.exitstatus == pytest.ExitCode.OK
    recording.violations.append("GET /x (get_x): PutItem on table 'audit', ...")
    table_grants.pytest_sessionfinish(session)  # type: ignore[arg-type]
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
