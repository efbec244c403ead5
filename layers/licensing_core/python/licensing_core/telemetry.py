"""Business metrics, as CloudWatch embedded metric format (EMF) lines on stdout.

Services call :func:`count` where something worth a graph happens (an activation, a
seat-limit rejection, a heartbeat...). The Lambda entry point wraps each invocation in
:func:`flushing`, which prints the invocation's metrics as one EMF JSON line when it
ends (CloudWatch turns log lines into metrics: no API call, no latency) and, once per
execution environment, a ``ColdStart`` metric with the function's name.

Namespace ``Licensing``, dimension ``service=licensing``: the stack's dashboard graphs
exactly these. Metrics are recorded with Powertools ``Metrics``, created on first
use; ``POWERTOOLS_METRICS_DISABLED=true`` (or ``POWERTOOLS_DEV=true``) turns them off,
as the local server may want. Telemetry never fails a request: errors are logged.

Tracing is Lambda's active tracing (X-Ray), configured by the stack on every function;
the Powertools ``Tracer`` is not used because ``aws-xray-sdk`` is not a runtime
dependency (subsegments per AWS call would need it in the dependency layer).
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

NAMESPACE = "Licensing"
SERVICE = "licensing"

logger = logging.getLogger(__name__)


class Metric(StrEnum):
    """The business metrics (unit: count) the dashboard shows."""

    ACTIVATIONS = "Activations"
    SEAT_LIMIT_REJECTIONS = "SeatLimitRejections"
    HEARTBEATS = "Heartbeats"
    REVOCATIONS = "Revocations"
    QUOTA_EXCEEDED = "QuotaExceeded"
    REGISTRATIONS = "Registrations"


BUSINESS_METRICS: tuple[str, ...] = tuple(member.value for member in Metric)

_metrics: Metrics | None = None
#: Garbage collection thresholds while a Lambda function initializes (see
#: :func:`collect_rarely_during_init`), and the ones to restore after.
INIT_GC_THRESHOLDS = (50_000, 20, 100)
_gc_thresholds: tuple[int, int, int] | None = None
_cold_start = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency"


def collect_rarely_during_init() -> None:
    """In Lambda, run the garbage collector rarely until :func:`init_done`: a function's
    imports create hundreds of thousands of objects that live as long as the process,
    which the collector would otherwise traverse again and again (a quarter of a cold
    start's CPU, ``bench/RESULTS.md``). ``licensing_core`` calls it on import."""
    global _gc_thresholds
    if _gc_thresholds is None and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        _gc_thresholds = gc.get_threshold()
        gc.set_threshold(*INIT_GC_THRESHOLDS)


def init_done() -> None:
    """The function is initialized (its handler module imported): the usual thresholds
    again, and what init created moved out of the collector's sight (``gc.freeze``),
    since it lives until the process ends. Called by the endpoint wrapper as a handler
    module is loaded, and by :func:`flushing` (once it matters) for other functions."""
    global _gc_thresholds
    if _gc_thresholds is not None:
        gc.set_threshold(*_gc_thresholds)
        gc.freeze()
        _gc_thresholds = None


def metrics() -> Metrics:
    """The process's Powertools ``Metrics`` (namespace ``Licensing``, service ``licensing``)."""
    global _metrics
    if _metrics is None:
        from aws_lambda_powertools import Metrics

        _metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
    return _metrics


def enabled() -> bool:
    """False when Powertools metrics are disabled by the environment."""
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    return not is_metrics_disabled()


def count(metric_name: str, value: int = 1) -> None:
    """Add ``value`` to a count metric of this invocation (flushed by :func:`flushing`)."""
    try:
        if not enabled():
            return
        from aws_lambda_powertools.metrics import MetricUnit

        metrics().add_metric(name=str(metric_name), unit=MetricUnit.Count, value=value)
    except Exception:
        logger.warning("metric %r not recorded", metric_name, exc_info=True)


@contextmanager
def flushing(context: Any = None) -> Iterator[None]:
    """Publish the metrics recorded inside the block when it ends, even by an exception.

    Usable as a decorator too. ``context`` is the Lambda context: its ``function_name``
    names the cold start (else ``AWS_LAMBDA_FUNCTION_NAME``; outside Lambda, none is
    recorded).
    """
    init_done()
    _record_cold_start(context)
    try:
        yield
    finally:
        flush()


def flush() -> None:
    """Print the recorded metrics as one EMF line (nothing when none was recorded)."""
    try:
        recorder = metrics()
        if not recorder.metric_set:
            return
        if enabled():
            recorder.flush_metrics()
        else:
            recorder.clear_metrics()
    except Exception:
        logger.warning("metrics not published", exc_info=True)


def _record_cold_start(context: Any) -> None:
    global _cold_start
    if not _cold_start:
        return
    _cold_start = False
    function_name = getattr(context, "function_name", None) or os.environ.get(
        "AWS_LAMBDA_FUNCTION_NAME"
    )
    if not function_name:
        return
    try:
        if not enabled():
            return
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(
            name="ColdStart", unit=MetricUnit.Count, value=1, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name="function_name", value=str(function_name))
            metric.add_dimension(name="service", value=SERVICE)
    except Exception:
        logger.warning("cold start metric not recorded", exc_info=True)
