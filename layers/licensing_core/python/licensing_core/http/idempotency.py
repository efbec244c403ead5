"""``Idempotency-Key`` for routes that create things (Powertools idempotency on DynamoDB).

A request repeated with the same key and the same body gets the first response again,
without running twice; the same key with another body is a 422; a repeat while the
first is still running is a 409. Failed requests are not remembered, so a retry after
an error runs again. Records expire after a day (TTL).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from licensing_core.aws import client
from licensing_core.domain.errors import IdempotencyKeyReused, Unavailable
from licensing_core.http.problems import HttpProblem
from licensing_core.settings import get_settings, per_settings
from licensing_core.store.models import IdempotencyRecord

HEADER = "idempotency-key"
KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
EXPIRES_AFTER_SECONDS = 86400


@per_settings
def _persistence() -> DynamoDBPersistenceLayer:
    """Built on first use, never at import (it creates its boto3 client eagerly)."""
    table = get_settings().table_name(IdempotencyRecord.logical_name)
    return DynamoDBPersistenceLayer(table_name=table, boto3_client=client("dynamodb"))


def once(
    function: str,
    key: str,
    scope: str,
    body: Any,
    run: Callable[[], dict[str, Any]],
    lambda_context: Any = None,
) -> dict[str, Any]:
    """Run ``run`` once per (``function``, ``scope``, ``key``); replay its response after."""
    if not KEY.match(key):
        raise HttpProblem(
            400,
            "INVALID_IDEMPOTENCY_KEY",
            "Invalid idempotency key",
            "Idempotency-Key must be 1 to 128 printable ASCII characters",
        )

    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
        lambda_context=lambda_context,
    )

    @idempotent_function(
        data_keyword_argument="data",
        persistence_store=_persistence(),
        config=config,
        key_prefix=function,
    )
    def execute(data: dict[str, Any]) -> dict[str, Any]:
        return run()

    try:
        result: dict[str, Any] = execute(data={"key": f"{scope}:{key}", "body": body})
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with another request body"
        ) from error
    except IdempotencyAlreadyInProgressError as error:
        raise HttpProblem(
            409,
            "REQUEST_IN_PROGRESS",
            "Request in progress",
            "a request with this Idempotency-Key is still running; retry shortly",
            retryAfterSeconds=1,
        ) from error
    except IdempotencyPersistenceLayerError as error:
        raise Unavailable("idempotency records are unavailable; retry shortly") from error
    return result
