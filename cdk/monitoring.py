"""Observability: one CloudWatch dashboard and the alarms an operator needs.

Alarms (all ``notBreaching`` on missing data, actions on the optional SNS topic):

- API 5xx rate: more than ``api_5xx_percent`` of requests, given enough traffic.
- API p99 latency above ``api_p99_latency_ms``.
- Lambda errors (crashes, timeouts: handlers turn exceptions into problems) and
  throttles, in groups of at most ten functions (a metric-math alarm's limit).
- DynamoDB system errors and throttle events, per table.
- Stream records a consumer gave up on: any message in its dead-letter queue.

CloudWatch bills an alarm per metric it reads (about $0.10 a month each): with some forty
functions and a dozen tables that is about 200 metrics; ``alarms=False`` keeps the
dashboard only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from licensing_core.telemetry import BUSINESS_METRICS, NAMESPACE, SERVICE

from cdk.tables import pascal

PERIOD = Duration.minutes(5)
#: A metric-math alarm may read at most ten metrics.
MAX_ALARM_METRICS = 10
#: The DynamoDB operations the service uses, whose ``SystemErrors`` are alarmed.
DYNAMODB_OPERATIONS = (
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "TransactWriteItems",
    "BatchWriteItem",
)


@dataclass(frozen=True)
class AlarmThresholds:
    api_5xx_percent: float = 1.0
    #: The 5xx rate is only judged over periods with at least this many requests.
    api_min_requests: int = 20
    api_p99_latency_ms: float = 3000
    lambda_errors: int = 1
    lambda_throttles: int = 1
    dynamodb_errors: int = 1


class Monitoring(Construct):
    """The service's dashboard and alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: apigwv2.HttpStage,
        functions: Mapping[str, lambda_.IFunction],
        tables: Mapping[str, dynamodb.ITable],
        dead_letters: Mapping[str, sqs.IQueue] | None = None,
        alarm_topic: sns.ITopic | None = None,
        thresholds: AlarmThresholds = AlarmThresholds(),
        alarms: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self._topic = alarm_topic
        self.thresholds = thresholds
        #: Alarm construct id -> alarm.
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        functions = dict(sorted(functions.items()))
        if alarms:
            self._api_alarms(stage)
            self._lambda_alarms(functions)
            self._dynamodb_alarms(tables)
            self._dead_letter_alarms(dead_letters or {})
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        self.dashboard.add_widgets(*self._api_widgets(stage))
        self.dashboard.add_widgets(*self._lambda_widgets(functions))
        self.dashboard.add_widgets(*self._dynamodb_widgets(tables))
        self.dashboard.add_widgets(self._business_widget())
        if self.alarms:
            self.dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(
                    title="Alarms", alarms=list(self.alarms.values()), width=24
                )
            )

    # Alarms

    def _alarm(self, construct_id: str, description: str, **props: object) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=description,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            **props,  # type: ignore[arg-type]
        )
        if self._topic is not None:
            alarm.add_alarm_action(actions.SnsAction(self._topic))
            alarm.add_ok_action(actions.SnsAction(self._topic))
        self.alarms[construct_id] = alarm
        return alarm

    def _dead_letter_alarms(self, queues: Mapping[str, sqs.IQueue]) -> None:
        for function, queue in sorted(queues.items()):
            self._alarm(
                f"{pascal(function)}DeadLetters",
                f"{function} gave up on stream records: see its dead-letter queue (each "
                "message names the records; redrive them once the cause is fixed)",
                metric=queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                threshold=1,
                evaluation_periods=1,
            )

    def _api_alarms(self, stage: apigwv2.HttpStage) -> None:
        t = self.thresholds
        rate = cloudwatch.MathExpression(
            expression=f"IF(requests >= {t.api_min_requests}, 100 * errors / requests, 0)",
            using_metrics={
                "requests": stage.metric_count(period=PERIOD, statistic="Sum"),
                "errors": stage.metric_server_error(period=PERIOD, statistic="Sum"),
            },
            label="5xx rate (%)",
            period=PERIOD,
        )
        self._alarm(
            "Api5xxRate",
            f"More than {t.api_5xx_percent}% of API requests answered 5xx",
            metric=rate,
            threshold=t.api_5xx_percent,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        )
        self._alarm(
            "ApiP99Latency",
            f"API p99 latency above {t.api_p99_latency_ms:g} ms",
            metric=stage.metric_latency(period=PERIOD, statistic="p99"),
            threshold=t.api_p99_latency_ms,
            evaluation_periods=3,
            datapoints_to_alarm=3,
        )

    def _lambda_alarms(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        groups = _chunks(list(functions))
        for metric, threshold in (
            ("Errors", self.thresholds.lambda_errors),
            ("Throttles", self.thresholds.lambda_throttles),
        ):
            for number, group in enumerate(groups, start=1):
                total = _sum(
                    [
                        functions[name].metric(metric, period=PERIOD, statistic="Sum")
                        for name in group
                    ],
                    label=f"{metric} ({len(group)} functions)",
                )
                self._alarm(
                    f"Lambda{metric}{number}",
                    f"Lambda {metric.lower()} in: {', '.join(group)}"[:1024],
                    metric=total,
                    threshold=threshold,
                    evaluation_periods=1,
                )

    def _dynamodb_alarms(self, tables: Mapping[str, dynamodb.ITable]) -> None:
        for name, table in tables.items():
            metrics = [
                *(_system_errors(table, operation) for operation in DYNAMODB_OPERATIONS),
                *_throttle_events(table),
            ]
            self._alarm(
                f"DynamoDb{pascal(name)}Errors",
                f"DynamoDB system errors or throttling on table '{name}'",
                metric=_sum(metrics, label=f"{name}: system errors + throttle events"),
                threshold=self.thresholds.dynamodb_errors,
                evaluation_periods=1,
            )

    # Dashboard

    def _api_widgets(self, stage: apigwv2.HttpStage) -> list[cloudwatch.IWidget]:
        return [
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[
                    stage.metric_count(period=PERIOD, statistic="Sum", label="requests"),
                ],
                right=[
                    stage.metric_client_error(period=PERIOD, statistic="Sum", label="4xx"),
                    stage.metric_server_error(period=PERIOD, statistic="Sum", label="5xx"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="API latency (ms)",
                left=[
                    stage.metric_latency(period=PERIOD, statistic="p50", label="p50"),
                    stage.metric_latency(period=PERIOD, statistic="p99", label="p99"),
                    stage.metric_integration_latency(
                        period=PERIOD, statistic="p99", label="integration p99"
                    ),
                ],
                width=12,
            ),
        ]

    def _lambda_widgets(
        self, functions: Mapping[str, lambda_.IFunction]
    ) -> list[cloudwatch.IWidget]:
        def per_function(metric: str, statistic: str) -> list[cloudwatch.IMetric]:
            return [
                function.metric(metric, period=PERIOD, statistic=statistic, label=name)
                for name, function in functions.items()
            ]

        return [
            cloudwatch.GraphWidget(
                title="Lambda errors",
                left=per_function("Errors", "Sum"),
                width=8,
                legend_position=cloudwatch.LegendPosition.HIDDEN,
            ),
            cloudwatch.GraphWidget(
                title="Lambda throttles",
                left=per_function("Throttles", "Sum"),
                width=8,
                legend_position=cloudwatch.LegendPosition.HIDDEN,
            ),
            cloudwatch.GraphWidget(
                title="Lambda duration p99 (ms)",
                left=per_function("Duration", "p99"),
                width=8,
                legend_position=cloudwatch.LegendPosition.HIDDEN,
            ),
        ]

    def _dynamodb_widgets(self, tables: Mapping[str, dynamodb.ITable]) -> list[cloudwatch.IWidget]:
        throttles = [
            _sum(_throttle_events(table), label=name, key=f"t{number}")
            for number, (name, table) in enumerate(tables.items())
        ]
        errors = [
            _sum(
                [_system_errors(table, op) for op in DYNAMODB_OPERATIONS],
                label=name,
                key=f"e{number}",
            )
            for number, (name, table) in enumerate(tables.items())
        ]
        return [
            cloudwatch.GraphWidget(title="DynamoDB throttle events", left=throttles, width=12),
            cloudwatch.GraphWidget(title="DynamoDB system errors", left=errors, width=12),
        ]

    def _business_widget(self) -> cloudwatch.IWidget:
        return cloudwatch.GraphWidget(
            title="Business metrics",
            left=[
                cloudwatch.Metric(
                    namespace=NAMESPACE,
                    metric_name=name,
                    dimensions_map={"service": SERVICE},
                    period=PERIOD,
                    statistic="Sum",
                    label=name,
                )
                for name in BUSINESS_METRICS
            ],
            width=24,
        )


def _system_errors(table: dynamodb.ITable, operation: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/DynamoDB",
        metric_name="SystemErrors",
        dimensions_map={"TableName": table.table_name, "Operation": operation},
        period=PERIOD,
        statistic="Sum",
    )


def _throttle_events(table: dynamodb.ITable) -> list[cloudwatch.IMetric]:
    return [
        table.metric(name, period=PERIOD, statistic="Sum")
        for name in ("ReadThrottleEvents", "WriteThrottleEvents")
    ]


def _sum(
    metrics: Sequence[cloudwatch.IMetric], *, label: str, key: str = "m"
) -> cloudwatch.MathExpression:
    """The sum of up to ten metrics, a missing datapoint counting as zero. ``key``
    prefixes the metric ids: unique per expression of one graph."""
    if len(metrics) > MAX_ALARM_METRICS:
        raise ValueError(f"{label}: {len(metrics)} metrics, alarms take {MAX_ALARM_METRICS}")
    ids = {f"{key}_{index}": metric for index, metric in enumerate(metrics)}
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({metric_id}, 0)" for metric_id in ids),
        using_metrics=ids,
        label=label,
        period=PERIOD,
    )


def _chunks(items: Sequence[str], size: int = MAX_ALARM_METRICS) -> list[Sequence[str]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
