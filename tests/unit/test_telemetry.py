"""Business metrics: EMF lines on stdout, one per invocation, and one cold start."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from licensing_core import telemetry
from licensing_core.telemetry import BUSINESS_METRICS, Metric, count, flushing


@pytest.fixture(autouse=True)
def fresh_metrics(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No metric carried over between tests; metrics enabled; a warm environment."""
    for name in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV", "AWS_LAMBDA_FUNCTION_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(telemetry, "_cold_start", False)
    telemetry.metrics().clear_metrics()
    yield
    telemetry.metrics().clear_metrics()


def emf_lines(out: str) -> list[dict[str, Any]]:
    """The EMF documents printed on stdout."""
    documents = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [document for document in documents if "_aws" in document]


def definitions(document: dict[str, Any]) -> tuple[str, list[list[str]], set[str]]:
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    return (
        directive["Namespace"],
        directive["Dimensions"],
        {metric["Name"] for metric in directive["Metrics"]},
    )


def test_counts_are_flushed_as_one_emf_line(capsys: pytest.CaptureFixture[str]) -> None:
    with flushing():
        count(Metric.ACTIVATIONS)
        count("Heartbeats", 3)
        count(Metric.HEARTBEATS)
    (document,) = emf_lines(capsys.readouterr().out)
    namespace, dimensions, names = definitions(document)
    assert namespace == "Licensing"
    assert dimensions == [["service"]]
    assert document["service"] == "licensing"
    assert names == {"Activations", "Heartbeats"}
    assert document["Activations"] == [1.0]
    assert document["Heartbeats"] == [3.0, 1.0]
    (unit,) = {m["Unit"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert unit == "Count"


def test_each_invocation_flushes_its_own_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    for metric in (Metric.REVOCATIONS, Metric.REGISTRATIONS):
        with flushing():
            count(metric)
    first, second = emf_lines(capsys.readouterr().out)
    assert definitions(first)[2] == {"Revocations"}
    assert definitions(second)[2] == {"Registrations"}


def test_metrics_are_flushed_when_the_handler_raises(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), flushing():
        count(Metric.SEAT_LIMIT_REJECTIONS)
        raise RuntimeError("handler failed")
    (document,) = emf_lines(capsys.readouterr().out)
    assert document["SeatLimitRejections"] == [1.0]


def test_flushing_decorates_a_handler(capsys: pytest.CaptureFixture[str]) -> None:
    @flushing()
    def handler() -> str:
        count(Metric.QUOTA_EXCEEDED)
        return "done"

    assert handler() == "done"
    (document,) = emf_lines(capsys.readouterr().out)
    assert document["QuotaExceeded"] == [1.0]


def test_nothing_recorded_prints_nothing(
    capsys: pytest.CaptureFixture[str], recwarn: pytest.WarningsRecorder
) -> None:
    with flushing():
        pass
    assert emf_lines(capsys.readouterr().out) == []
    assert not [w for w in recwarn if "metrics" in str(w.message).lower()]


def test_cold_start_is_counted_once_with_the_function_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telemetry, "_cold_start", True)
    context = SimpleNamespace(function_name="LicensingStack-Activate")
    for _ in range(2):
        with flushing(context):
            count(Metric.ACTIVATIONS)
    documents = emf_lines(capsys.readouterr().out)
    cold = [d for d in documents if "ColdStart" in d]
    assert len(cold) == 1
    namespace, dimensions, names = definitions(cold[0])
    assert (namespace, names) == ("Licensing", {"ColdStart"})
    assert sorted(dimensions[0]) == ["function_name", "service"]
    assert cold[0]["function_name"] == "LicensingStack-Activate"
    assert len([d for d in documents if "Activations" in d]) == 2


def test_cold_start_falls_back_to_the_lambda_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telemetry, "_cold_start", True)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "LicensingStack-Heartbeat")
    with flushing():
        pass
    (cold,) = emf_lines(capsys.readouterr().out)
    assert cold["function_name"] == "LicensingStack-Heartbeat"


def test_no_cold_start_outside_lambda(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telemetry, "_cold_start", True)
    with flushing():
        pass
    assert emf_lines(capsys.readouterr().out) == []


def test_disabled_metrics_print_nothing_and_do_not_pile_up(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setattr(telemetry, "_cold_start", True)
    with flushing(SimpleNamespace(function_name="f")):
        count(Metric.ACTIVATIONS)
    assert emf_lines(capsys.readouterr().out) == []
    assert not telemetry.metrics().metric_set


def test_a_bad_metric_is_logged_not_raised(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="licensing_core.telemetry"), flushing():
        count("")  # CloudWatch refuses empty names
        count(Metric.HEARTBEATS)
    assert "metric '' not recorded" in caplog.text
    (document,) = emf_lines(capsys.readouterr().out)
    assert definitions(document)[2] == {"Heartbeats"}


def test_business_metrics_are_the_dashboards() -> None:
    assert set(BUSINESS_METRICS) == {
        "Activations",
        "SeatLimitRejections",
        "Heartbeats",
        "Revocations",
        "QuotaExceeded",
        "Registrations",
    }
