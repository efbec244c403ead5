"""Lifecycle events and scheduled jobs: the custom bus, its archive, the schedules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from licensing_core.routes import CONSUMERS, StreamConsumer

from cdk.paths import FUNCTIONS_DIR
from cdk.specs import CLAIM_EXPIRY, DEFAULT_TRIGGERS, default_jobs
from tests.infra.cloud_assembly import CloudAssembly, file_tree, grants, references


def test_a_custom_event_bus_with_an_archive_of_the_services_events(
    assembly: CloudAssembly,
) -> None:
    bus = assembly.the("AWS::Events::EventBus")
    assert assembly.properties(bus)["Name"]
    archive = assembly.properties(assembly.the("AWS::Events::Archive"))
    assert set(references(archive["SourceArn"])) == {bus}
    assert json.loads(json.dumps(archive["EventPattern"])) == {"source": ["licensing"]}
    assert archive["RetentionDays"] == 30


def test_no_one_else_may_put_events_on_the_bus(assembly: CloudAssembly) -> None:
    assert not assembly.resources("AWS::Events::EventBusPolicy")
    assert "Policy" not in assembly.properties(assembly.the("AWS::Events::EventBus"))


def test_claim_expiry_runs_hourly_when_its_handler_exists(
    assembly: CloudAssembly, table_ids: dict[str, str]
) -> None:
    (job,) = [job for job in default_jobs() if job.function == CLAIM_EXPIRY]
    rules = {
        rule_id: properties["Properties"]
        for rule_id, properties in assembly.resources("AWS::Events::Rule").items()
        if "ScheduleExpression" in properties["Properties"]
    }
    if not (FUNCTIONS_DIR / job.function).is_dir():
        assert not rules
        pytest.skip(f"functions/{job.function}/ does not exist yet (see test_variants)")
    (rule_id,) = [r for r, p in rules.items() if p["Description"] == job.description]
    assert rules[rule_id]["ScheduleExpression"] == "rate(1 hour)"
    assert rules[rule_id]["State"] == "ENABLED"
    (function_id,) = assembly.rule_targets(rule_id)
    assert file_tree(assembly.code_dir(function_id)) == file_tree(FUNCTIONS_DIR / job.function)
    (target,) = rules[rule_id]["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    declared = {table_ids[name] for name, _ in job.tables}
    assert set(grants(assembly, function_id, "dynamodb")) == declared
    assert "claims" in {name for name, access in job.tables if access == "write"}
    permission = [
        p["Properties"]
        for p in assembly.resources("AWS::Lambda::Permission").values()
        if function_id in set(references(p["Properties"]["FunctionName"]))
    ]
    assert [p["Principal"] for p in permission] == ["events.amazonaws.com"]
    assert set(references(permission[0]["SourceArn"])) == {rule_id}


def test_identity_triggers_are_wired_when_their_handler_exists(assembly: CloudAssembly) -> None:
    pool = assembly.properties(assembly.the("AWS::Cognito::UserPool"))
    present = [t for t in DEFAULT_TRIGGERS if (FUNCTIONS_DIR / t.function).is_dir()]
    if not present:
        assert "LambdaConfig" not in pool
        pytest.skip("no identity trigger handler exists yet (see test_variants)")
    (trigger,) = present
    (function_id,) = set(references(pool["LambdaConfig"]["PostConfirmation"]))
    assert file_tree(assembly.code_dir(function_id)) == file_tree(FUNCTIONS_DIR / trigger.function)


# --- The outbox: the audit table's stream and its publisher ------------------------------


def _consumers(assembly: CloudAssembly) -> dict[str, tuple[str, dict[str, Any]]]:
    """Consumer (``routes.CONSUMERS``) -> its function id and its event source mapping's
    properties."""
    found = {}
    for mapping_id in assembly.resources("AWS::Lambda::EventSourceMapping"):
        mapping = assembly.properties(mapping_id)
        (function_id,) = set(references(mapping["FunctionName"]))
        tree = file_tree(assembly.code_dir(function_id))
        (name,) = [c.function for c in CONSUMERS if file_tree(FUNCTIONS_DIR / c.function) == tree]
        found[name] = (function_id, mapping)
    assert set(found) == {c.function for c in CONSUMERS}
    return found


def _publisher(assembly: CloudAssembly) -> tuple[str, dict[str, Any]]:
    """The publisher's function id and its event source mapping's properties."""
    return _consumers(assembly)["publish_events"]


def test_the_audit_and_usage_tables_stream_their_changes(
    assembly: CloudAssembly, table_ids: dict[str, str]
) -> None:
    streaming = {
        table_id
        for table_id, table in assembly.resources("AWS::DynamoDB::Table").items()
        if "StreamSpecification" in table["Properties"]
    }
    assert streaming == {table_ids["audit"], table_ids["usage"]}
    audit = assembly.properties(table_ids["audit"])
    assert audit["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    usage = assembly.properties(table_ids["usage"])  # a counter's increase: new - old
    assert usage["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda consumer: consumer.function)
def test_each_consumer_reads_its_stream_retrying_only_what_failed(
    assembly: CloudAssembly, table_ids: dict[str, str], consumer: StreamConsumer
) -> None:
    function_id, mapping = _consumers(assembly)[consumer.function]
    stream = table_ids[consumer.stream]
    assert set(references(mapping["EventSourceArn"])) == {stream}
    assert mapping["EventSourceArn"]["Fn::GetAtt"][1] == "StreamArn"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 10
    assert mapping["MaximumRecordAgeInSeconds"] == 86400
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    (queue_id,) = set(references(destination))
    others = [m for name, (_, m) in _consumers(assembly).items() if name != consumer.function]
    assert all(queue_id not in set(references(m["DestinationConfig"])) for m in others)
    queue = assembly.properties(queue_id)
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 86400
    granted = grants(assembly, function_id, "dynamodb")
    assert set(granted) == {stream} | {table_ids[name] for name, _ in consumer.tables}
    assert granted[stream] >= {"dynamodb:GetRecords", "dynamodb:GetShardIterator"}
    if consumer.stream not in dict(consumer.tables):  # the stream only, not its items
        assert not {a for a in granted[stream] if "Item" in a or "Query" in a}


def test_the_rollup_consumers_write_the_statistics_only(
    assembly: CloudAssembly, table_ids: dict[str, str]
) -> None:
    consumers = _consumers(assembly)
    for name, stream in (("rollup_stats", "audit"), ("rollup_usage", "usage")):
        function_id, mapping = consumers[name]
        assert set(references(mapping["EventSourceArn"])) == {table_ids[stream]}
        granted = grants(assembly, function_id, "dynamodb")
        assert set(granted) == {table_ids[stream], table_ids["stats"]}
        assert {"dynamodb:UpdateItem", "dynamodb:BatchGetItem"} <= granted[table_ids["stats"]]
        assert not grants(assembly, function_id, "events")


def test_only_the_publisher_may_put_events(assembly: CloudAssembly) -> None:
    bus = assembly.the("AWS::Events::EventBus")
    function_id, _ = _publisher(assembly)
    putting = {
        candidate
        for candidate in assembly.resources("AWS::Lambda::Function")
        if grants(assembly, candidate, "events")
    }
    assert putting == {function_id}
    assert grants(assembly, function_id, "events") == {bus: {"events:PutEvents"}}
    assert assembly.environment(function_id)["LICENSING_EVENT_BUS"] == {"Ref": bus}


def test_an_alarm_watches_each_consumers_dead_letters(assembly: CloudAssembly) -> None:
    queues = set(assembly.resources("AWS::SQS::Queue"))
    assert len(queues) == len(CONSUMERS)
    watching = [
        alarm["Properties"]
        for alarm in assembly.resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    watched = []
    for alarm in watching:
        (dimension,) = alarm["Dimensions"]
        watched.extend(references(dimension["Value"]))
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert sorted(watched) == sorted(queues)
