"""The one place where storage failures become domain errors.

Throttling and service faults become :class:`Unavailable` (503, retryable);
``TransactionConflict`` is retried with bounded, jittered backoff; a failed
condition becomes whatever domain error the caller says it means.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from licensing_core.domain.errors import DomainError, Unavailable

T = TypeVar("T")

RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)


MAX_ATTEMPTS = 4
BASE_DELAY_SECONDS = 0.02


@contextmanager
def storage_errors(on_condition_failed: DomainError | None = None) -> Iterator[None]:
    """Translate throttling and service faults raised inside the block, and a failed
    condition of a single write into ``on_condition_failed``."""
    try:
        yield
    except PynamoDBException as error:
        code = error.cause_response_code
        if code in RETRYABLE_CODES:
            raise Unavailable("storage is busy; retry shortly", retryAfterSeconds=1) from error
        if code == "ConditionalCheckFailedException" and on_condition_failed is not None:
            raise on_condition_failed from error
        raise


def transact(
    write: Callable[[], T], *, on_condition_failed: Callable[[list[str | None]], Exception]
) -> T:
    """Run a transactional write, retrying conflicts; failed conditions become domain errors."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with storage_errors():
                return write()
        except TransactWriteError as error:
            reasons = [reason.code if reason else None for reason in error.cancellation_reasons]
            if "ConditionalCheckFailed" in reasons:
                raise on_condition_failed(reasons) from error
            retryable = "TransactionConflict" in reasons or any(
                code in RETRYABLE_CODES for code in reasons if code
            )
            if not retryable:
                raise
            if attempt == MAX_ATTEMPTS:
                raise Unavailable(
                    "storage is contended; retry shortly", retryAfterSeconds=1
                ) from error
            time.sleep(random.uniform(0, BASE_DELAY_SECONDS * 2**attempt))  # noqa: S311
    raise AssertionError("unreachable")
