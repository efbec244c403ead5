"""Stream consumers: each reads a table's DynamoDB stream in batches.

The audit table's stream is the outbox of lifecycle events. Each consumer's mapping
reports partial batch failures (only the failed record and those after it come again),
halves a batch that crashes the function, gives up on a record after a bounded number
of retries or a day, and then sends a pointer to it to its own dead-letter queue, whose
depth is alarmed (``Monitoring``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk import nag
from cdk.specs import StreamConsumerSpec
from cdk.tables import Tables, pascal

BATCH_SIZE = 100
#: Retries of a failing record before it goes to the dead-letter queue (bisection
#: narrows a crashing batch down to it first).
RETRY_ATTEMPTS = 10
MAX_RECORD_AGE = Duration.days(1)


class StreamConsumers(Construct):
    """Each consumer's event source mapping on its table's stream, and its dead letters."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        consumers: Sequence[StreamConsumerSpec],
        functions: Mapping[str, lambda_.Function],
        tables: Tables,
    ) -> None:
        super().__init__(scope, construct_id)
        #: Consumer function -> the queue its abandoned records are reported to.
        self.dead_letters: dict[str, sqs.Queue] = {}
        for consumer in consumers:
            table = tables.by_name[consumer.stream]
            if table.table_stream_arn is None:
                raise ValueError(f"{consumer.function}: table {consumer.stream} has no stream")
            queue = sqs.Queue(
                self,
                f"{pascal(consumer.function)}DeadLetters",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            nag.acknowledge(nag.default_child(queue), "AwsSolutions-SQS3")
            functions[consumer.function].add_event_source(
                sources.DynamoEventSource(
                    table,
                    starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=BATCH_SIZE,
                    max_batching_window=Duration.seconds(1),
                    bisect_batch_on_error=True,
                    retry_attempts=RETRY_ATTEMPTS,
                    max_record_age=MAX_RECORD_AGE,
                    report_batch_item_failures=True,
                    parallelization_factor=1,
                    on_failure=sources.SqsDlq(queue),
                )
            )
            self.dead_letters[consumer.function] = queue
