"""DynamoDB tables, one per stored model, shaped by the model's own schema."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct
from licensing_core.settings import PREFIX
from licensing_core.store.base import StoredModel, table_schema
from licensing_core.store.models import ALL_MODELS
from pynamodb.attributes import TTLAttribute

_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
#: Logical names become env var names (``LICENSING_TABLE_<NAME>``) and construct ids.
_LOGICAL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def pascal(name: str) -> str:
    """``license_keys`` -> ``LicenseKeys`` (construct ids, output ids)."""
    return "".join(part.capitalize() for part in name.split("_"))


def table_env_var(logical_name: str) -> str:
    """The variable :meth:`licensing_core.settings.Settings.from_env` reads a table's name from."""
    return f"{PREFIX}TABLE_{logical_name.upper()}"


class Tables(Construct):
    """On-demand, encrypted, point-in-time-recoverable tables that outlive the stack
    (unless ``removal_policy`` says otherwise)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        models: Iterable[type[StoredModel]] = ALL_MODELS,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, dynamodb.Table] = {}
        #: Logical names of the tables with secondary indexes.
        self.indexed: set[str] = set()
        self._removal_policy = removal_policy
        for model in models:
            if not _LOGICAL_NAME.match(model.logical_name):
                raise ValueError(
                    f"{model.__name__}.logical_name must match {_LOGICAL_NAME.pattern}"
                )
            self.by_name[model.logical_name] = self._table(model)

    def environment(self) -> dict[str, str]:
        """``LICENSING_TABLE_<NAME>`` -> physical table name, for every table."""
        return {table_env_var(name): table.table_name for name, table in self.by_name.items()}

    def _table(self, model: type[StoredModel]) -> dynamodb.Table:
        schema = table_schema(model)
        types = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
        partition_key, sort_key = _keys(schema["key_schema"], types)
        table = dynamodb.Table(
            self,
            pascal(model.logical_name),
            partition_key=partition_key,
            sort_key=sort_key,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Retained and protected unless the deployment says its data is disposable.
            deletion_protection=self._removal_policy == RemovalPolicy.RETAIN,
            removal_policy=self._removal_policy,
            time_to_live_attribute=_ttl_attribute(model),
            stream=_stream(model),
        )
        if schema["global_secondary_indexes"] or schema["local_secondary_indexes"]:
            self.indexed.add(model.logical_name)
        for index in schema["global_secondary_indexes"]:
            index_partition_key, index_sort_key = _keys(index["key_schema"], types)
            assert index_partition_key is not None  # a GSI always has a hash key
            table.add_global_secondary_index(
                index_name=index["index_name"],
                partition_key=index_partition_key,
                sort_key=index_sort_key,
                **_projection(index["projection"]),
            )
        for index in schema["local_secondary_indexes"]:
            _, index_sort_key = _keys(index["key_schema"], types)
            assert index_sort_key is not None  # an LSI always has a range key
            table.add_local_secondary_index(
                index_name=index["index_name"],
                sort_key=index_sort_key,
                **_projection(index["projection"]),
            )
        return table


def _keys(
    key_schema: Sequence[Mapping[str, str]], types: Mapping[str, str]
) -> tuple[dynamodb.Attribute | None, dynamodb.Attribute | None]:
    """(HASH, RANGE) attributes of a PynamoDB key schema."""
    keys = {
        key["KeyType"]: dynamodb.Attribute(
            name=key["AttributeName"], type=_TYPES[types[key["AttributeName"]]]
        )
        for key in key_schema
    }
    return keys.get("HASH"), keys.get("RANGE")


def _projection(projection: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "projection_type": dynamodb.ProjectionType[projection["ProjectionType"]],
        "non_key_attributes": projection.get("NonKeyAttributes"),
    }


def _stream(model: type[StoredModel]) -> dynamodb.StreamViewType | None:
    """The stream the model asks for (``Meta.stream_view_type``), if any."""
    view = getattr(model.Meta, "stream_view_type", None)
    return None if view is None else dynamodb.StreamViewType[view]


def _ttl_attribute(model: type[StoredModel]) -> str | None:
    """The stored name of the model's ``TTLAttribute``, if it has one."""
    for attribute in model.get_attributes().values():
        if isinstance(attribute, TTLAttribute):
            name: str = attribute.attr_name
            return name
    return None
