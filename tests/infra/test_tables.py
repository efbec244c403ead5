"""One DynamoDB table per stored model, shaped exactly like the model's schema."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from licensing_core.store.base import StoredModel, table_schema
from licensing_core.store.models import ALL_MODELS
from pynamodb.attributes import TTLAttribute

from tests.infra.cloud_assembly import CloudAssembly

models = pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.logical_name)


def _key_schema(keys: Iterable[Mapping[str, str]]) -> list[tuple[str, str]]:
    return sorted((key["KeyType"], key["AttributeName"]) for key in keys)


def _indexes(indexes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Index name -> (key schema, projection), from PynamoDB's or CloudFormation's spelling."""
    normalized = {}
    for index in indexes:
        name = index.get("IndexName", index.get("index_name"))
        keys = index.get("KeySchema", index.get("key_schema", []))
        projection = dict(index.get("Projection", index.get("projection", {})))
        projection["NonKeyAttributes"] = sorted(projection.get("NonKeyAttributes", []))
        normalized[name] = (_key_schema(keys), projection)
    return normalized


def test_a_table_per_model(template: Template) -> None:
    template.resource_count_is("AWS::DynamoDB::Table", len(ALL_MODELS))


@models
def test_table_matches_model_schema(
    assembly: CloudAssembly, table_ids: dict[str, str], model: type[StoredModel]
) -> None:
    schema = table_schema(model)
    table = assembly.properties(table_ids[model.logical_name])
    assert _key_schema(table["KeySchema"]) == _key_schema(schema["key_schema"])
    assert table["KeySchema"][0]["KeyType"] == "HASH"
    definitions = {(d["AttributeName"], d["AttributeType"]) for d in table["AttributeDefinitions"]}
    assert definitions == {
        (d["AttributeName"], d["AttributeType"]) for d in schema["attribute_definitions"]
    }
    assert _indexes(table.get("GlobalSecondaryIndexes", [])) == _indexes(
        schema["global_secondary_indexes"]
    )
    assert _indexes(table.get("LocalSecondaryIndexes", [])) == _indexes(
        schema["local_secondary_indexes"]
    )


@models
def test_table_is_durable_on_demand_and_encrypted(
    assembly: CloudAssembly, table_ids: dict[str, str], model: type[StoredModel]
) -> None:
    resource = assembly.template["Resources"][table_ids[model.logical_name]]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"
    table = resource["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["DeletionProtectionEnabled"] is True
    assert table["SSESpecification"] == {"SSEEnabled": True}  # AWS-managed KMS key
    assert "TableName" not in table  # generated: several stages can share an account


@models
def test_ttl_follows_the_models_ttl_attribute(
    assembly: CloudAssembly, table_ids: dict[str, str], model: type[StoredModel]
) -> None:
    ttl = [a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)]
    table = assembly.properties(table_ids[model.logical_name])
    if ttl:
        assert table["TimeToLiveSpecification"] == {"AttributeName": ttl[0], "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in table


def test_no_table_is_provisioned(template: Template) -> None:
    for table in template.find_resources("AWS::DynamoDB::Table").values():
        assert "ProvisionedThroughput" not in table["Properties"]
    template.all_resources_properties(
        "AWS::DynamoDB::Table", Match.object_like({"BillingMode": "PAY_PER_REQUEST"})
    )
