"""A dashboard of the API, functions, tables and business metrics; alarms to a topic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from licensing_core.telemetry import BUSINESS_METRICS

from cdk.monitoring import MAX_ALARM_METRICS
from tests.infra.cloud_assembly import CloudAssembly, references


def _dashboard_body(assembly: CloudAssembly) -> str:
    """The dashboard's JSON body with intrinsics as ``<Id>`` / ``<Id.Attr>``."""
    body = assembly.properties(assembly.the("AWS::CloudWatch::Dashboard"))["DashboardBody"]
    parts = body["Fn::Join"][1]
    return "".join(
        part
        if isinstance(part, str)
        else f"<{part['Ref']}>"
        if "Ref" in part
        else "<{}.{}>".format(*part["Fn::GetAtt"])
        for part in parts
    )


def _metrics(alarm: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The metric stats an alarm reads (single metric or metric math)."""
    if "MetricName" in alarm:
        yield {"MetricName": alarm["MetricName"], "Dimensions": alarm.get("Dimensions", [])}
    for query in alarm.get("Metrics", []):
        if "MetricStat" in query:
            yield query["MetricStat"]["Metric"]


def _alarms(assembly: CloudAssembly) -> dict[str, dict[str, Any]]:
    return {
        logical_id: alarm["Properties"]
        for logical_id, alarm in assembly.resources("AWS::CloudWatch::Alarm").items()
    }


def test_dashboard_shows_api_functions_tables_and_business_metrics(
    assembly: CloudAssembly,
) -> None:
    body = _dashboard_body(assembly)
    widgets = json.loads(body)["widgets"]
    titles = {widget["properties"].get("title") for widget in widgets}
    assert {
        "API requests and errors",
        "API latency (ms)",
        "Lambda errors",
        "Lambda throttles",
        "Lambda duration p99 (ms)",
        "DynamoDB throttle events",
        "DynamoDB system errors",
        "Business metrics",
        "Alarms",
    } <= titles
    for function_id in assembly.resources("AWS::Lambda::Function"):
        assert f"<{function_id}>" in body
    for table_id in assembly.resources("AWS::DynamoDB::Table"):
        assert f"<{table_id}>" in body
    for metric in BUSINESS_METRICS:
        assert f'"Licensing","{metric}","service","licensing"' in body
    for statistic in ('"stat":"p50"', '"stat":"p99"'):
        assert statistic in body


def test_api_alarms_on_5xx_rate_and_p99_latency(assembly: CloudAssembly) -> None:
    api = assembly.the("AWS::ApiGatewayV2::Api")
    alarms = _alarms(assembly).values()
    (rate,) = [a for a in alarms if {m["MetricName"] for m in _metrics(a)} == {"Count", "5xx"}]
    (expression,) = [q["Expression"] for q in rate["Metrics"] if "Expression" in q]
    assert "100 * errors / requests" in expression
    (latency,) = [a for a in alarms if a.get("MetricName") == "Latency"]
    assert latency["ExtendedStatistic"] == "p99"
    for alarm in (rate, latency):
        for metric in _metrics(alarm):
            assert {"Name": "ApiId", "Value": {"Ref": api}} in metric["Dimensions"]


def test_every_function_has_error_and_throttle_alarms(assembly: CloudAssembly) -> None:
    covered: dict[str, set[str]] = {"Errors": set(), "Throttles": set()}
    for alarm in _alarms(assembly).values():
        metrics = list(_metrics(alarm))
        for metric in metrics:
            if metric["MetricName"] in covered and metric.get("Namespace") == "AWS/Lambda":
                (dimension,) = metric["Dimensions"]
                covered[metric["MetricName"]] |= set(references(dimension["Value"]))
        assert len(metrics) <= MAX_ALARM_METRICS
    functions = set(assembly.resources("AWS::Lambda::Function"))
    assert covered == {"Errors": functions, "Throttles": functions}


def test_every_table_has_an_errors_and_throttling_alarm(assembly: CloudAssembly) -> None:
    for table_id in assembly.resources("AWS::DynamoDB::Table"):
        (alarm,) = [
            a
            for a in _alarms(assembly).values()
            if any(
                table_id in set(references(d["Value"]))
                for m in _metrics(a)
                for d in m["Dimensions"]
            )
        ]
        names = {m["MetricName"] for m in _metrics(alarm)}
        assert names == {"SystemErrors", "ReadThrottleEvents", "WriteThrottleEvents"}


def test_alarms_notify_the_topic_and_ignore_missing_data(assembly: CloudAssembly) -> None:
    topic = assembly.the("AWS::SNS::Topic")
    for logical_id, alarm in _alarms(assembly).items():
        assert alarm["AlarmActions"] == [{"Ref": topic}], logical_id
        assert alarm["OKActions"] == [{"Ref": topic}], logical_id
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmDescription"]


def test_alarm_topic_requires_tls(assembly: CloudAssembly) -> None:
    topic = assembly.the("AWS::SNS::Topic")
    (policy,) = assembly.resources("AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": topic}]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
