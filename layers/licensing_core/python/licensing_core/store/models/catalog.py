"""The catalog: products, their features and tiers (with their typed policies)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import STRING

from licensing_core.domain import policies
from licensing_core.store.base import StoredModel

_P = TypeVar("_P", bound=policies.Policy)


class PolicyAttribute(Attribute[_P]):
    """A tier policy, stored as JSON text in its one spelling (``serialized``); items
    written before in snake_case read too (``parse``)."""

    attr_type = STRING

    def __init__(self, policy: type[_P], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.policy = policy

    def serialize(self, value: _P) -> str:
        return json.dumps(value.serialized())

    def deserialize(self, value: str) -> _P:
        return self.policy.parse(json.loads(value))


class PolicyMapAttribute(Attribute[Mapping[str, _P]]):
    """Policies by key (a meter's quota, a feature's step-up rule), as JSON text."""

    attr_type = STRING

    def __init__(self, policy: type[_P], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.policy = policy

    def serialize(self, value: Mapping[str, _P]) -> str:
        return json.dumps(policies.serialized_map(value))

    def deserialize(self, value: str) -> Mapping[str, _P]:
        return self.policy.parse_map(json.loads(value))


class ProductRecord(StoredModel):
    logical_name = "products"

    class Meta:
        table_name = "products"
        billing_mode = "PAY_PER_REQUEST"

    product_id = UnicodeAttribute(hash_key=True)
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    #: Bumped by every write that changes tier inheritance: concurrent edits that
    #: could together close a cycle cannot both commit.
    tiers_version = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class FeatureRecord(StoredModel):
    logical_name = "features"

    class Meta:
        table_name = "features"
        billing_mode = "PAY_PER_REQUEST"

    product_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    display_only = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()


class TierRecord(StoredModel):
    logical_name = "tiers"

    class Meta:
        table_name = "tiers"
        billing_mode = "PAY_PER_REQUEST"

    product_id = UnicodeAttribute(hash_key=True)
    tier_id = UnicodeAttribute(range_key=True)
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    includes_tier_id = UnicodeAttribute(null=True)
    #: None: not set (a period is offered only with its price).
    monthly_price = NumberAttribute(null=True)
    annual_price = NumberAttribute(null=True)
    currency = UnicodeAttribute()
    billing_periods = JSONAttribute()  # list[str]
    max_users = NumberAttribute()
    max_tenants = NumberAttribute()
    features = JSONAttribute(default=list)  # list[str], own feature keys
    #: Policies (``domain/policies``), typed; a tier stored without ``offline`` allows
    #: no offline use.
    quotas = PolicyMapAttribute(policies.Quota, default=dict)
    heartbeat = PolicyAttribute(policies.HeartbeatPolicy)
    offline = PolicyAttribute(policies.OfflinePolicy, default=policies.OfflinePolicy)
    step_up = PolicyMapAttribute(policies.StepUpRule, default=dict)
    self_service = BooleanAttribute(default=False)
    sensitive = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
