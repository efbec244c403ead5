"""Catalog use cases: products, features and pricing tiers."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, TypeVar

from licensing_core import schemas
from licensing_core.domain import policies
from licensing_core.domain import tiers as rules
from licensing_core.domain.errors import ConcurrentChange, NotFound, ValidationFailed
from licensing_core.domain.ids import (
    PRODUCT_ID_PREFIX,
    TIER_ID_PREFIX,
    is_catalog_id,
    new_id,
    utcnow,
)
from licensing_core.settings import get_settings, on_reset
from licensing_core.store import catalog as store
from licensing_core.store.models import (
    FeatureRecord,
    ProductRecord,
    TierRecord,
)

#: An API model a policy is shown as (a string: the models load on first use).
Shown = TypeVar("Shown", bound="schemas.ApiModel")

#: A concurrent tier edit is retried this many times, re-checking the rules each time.
TIER_WRITE_ATTEMPTS = 3


# Products


def _product(record: ProductRecord) -> schemas.Product:
    return schemas.Product(
        product_id=record.product_id,
        code=record.code,
        name=record.name,
        description=record.description,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def create_product(body: schemas.ProductCreate) -> schemas.Product:
    now = utcnow()
    record = ProductRecord(
        new_id(PRODUCT_ID_PREFIX),
        code=body.code,
        name=body.name,
        description=body.description,
        created_at=now,
        updated_at=now,
    )
    store.insert_product(record)
    return _product(record)


def get_product(product_id: str) -> schemas.Product:
    return _product(store.get_product(product_id))


def product_id_of(reference: str) -> str:
    """The id of the product ``reference`` names: an id (``domain/ids.is_catalog_id``) as
    given, else a code in any case (:class:`NotFound` when no product has it)."""
    if is_catalog_id(reference):
        return reference
    product_id = store.find_product_id(reference)
    if product_id is None:
        raise NotFound(f"no product with code {reference!r}", code="PRODUCT_NOT_FOUND")
    return product_id


def list_products(query: schemas.PageQuery) -> schemas.ProductPage:
    records, cursor = store.page_products(query.limit, query.cursor)
    return schemas.ProductPage(items=[_product(r) for r in records], next_cursor=cursor)


# Features


def _feature(record: FeatureRecord) -> schemas.Feature:
    return schemas.Feature(
        product_id=record.product_id,
        key=record.key,
        name=record.name,
        description=record.description,
        display_only=record.display_only,
        created_at=record.created_at,
    )


def create_feature(product_id: str, body: schemas.FeatureCreate) -> schemas.Feature:
    store.get_product(product_id)
    record = FeatureRecord(
        product_id,
        body.key,
        name=body.name,
        description=body.description,
        display_only=body.display_only,
        created_at=utcnow(),
    )
    store.insert_feature(record)
    return _feature(record)


def list_features(product_id: str) -> schemas.FeatureList:
    store.get_product(product_id)
    return schemas.FeatureList(items=[_feature(r) for r in store.product_features(product_id)])


# Tiers

#: product id -> (when it was last known current, on the monotonic clock; its catalog),
#: shared by the requests of this container (read only).
_CATALOGS: dict[str, tuple[float, ProductCatalog]] = {}
on_reset(_CATALOGS.clear)


@dataclass
class ProductCatalog:
    """A product with all its features and tiers, read once, resolved in memory."""

    product: ProductRecord
    features: dict[str, FeatureRecord]
    tiers: dict[str, TierRecord]

    @classmethod
    def load(cls, product_id: str) -> ProductCatalog:
        """The catalog as of now, for reading. Kept per container and reused while the
        product's ``tiers_version`` is unchanged (every tier write bumps it, and features
        reach tokens only through tiers), so a tier change is seen by the next request."""
        product = store.get_product(product_id)
        found = _CATALOGS.get(product_id)
        if found is not None and found[1].product.tiers_version == product.tiers_version:
            catalog = found[1]
        else:
            catalog = cls.load_for_write(product_id, product)
        _CATALOGS[product_id] = (time.monotonic(), catalog)
        return catalog

    @classmethod
    def cached(cls, product_id: str) -> ProductCatalog:
        """The catalog for the token hot paths (activate, heartbeat): this container's
        copy, without any read, for ``catalog_cache_seconds`` after it was last known
        current, so a tier change reaches machine tokens within that bound; then (or with
        0) :meth:`load`. A tier written through this container is seen at once."""
        found = _CATALOGS.get(product_id)
        if found is not None and time.monotonic() - found[0] < get_settings().catalog_cache_seconds:
            return found[1]
        return cls.load(product_id)

    @staticmethod
    def forget(product_id: str) -> None:
        """Drop this container's copy (after a tier write)."""
        _CATALOGS.pop(product_id, None)

    @classmethod
    def load_for_write(
        cls, product_id: str, product: ProductRecord | None = None
    ) -> ProductCatalog:
        """A private, freshly read catalog that the caller may change."""
        return cls(
            product or store.get_product(product_id),
            {f.key: f for f in store.product_features(product_id)},
            {t.tier_id: t for t in store.product_tiers(product_id)},
        )

    @property
    def parent_of(self) -> dict[str, str | None]:
        return {tier_id: tier.includes_tier_id for tier_id, tier in self.tiers.items()}

    def tier(self, tier_id: str) -> TierRecord:
        try:
            return self.tiers[tier_id]
        except KeyError:
            raise NotFound(f"no tier {tier_id} in this product", code="TIER_NOT_FOUND") from None

    def tier_of(self, reference: str) -> TierRecord:
        """The tier ``reference`` names: by id (``domain/ids.is_catalog_id``), else by its
        code in any case (codes are unique per product regardless of case)."""
        return self.tier(reference) if is_catalog_id(reference) else self.tier_by_code(reference)

    def tier_by_code(self, code: str) -> TierRecord:
        """The tier with this code, in any case (codes are unique per product regardless
        of case)."""
        for tier in self.tiers.values():
            if tier.code.lower() == code.lower():
                return tier
        raise NotFound(f"no tier {code!r} in this product", code="TIER_NOT_FOUND")

    def display_features(self, tier_id: str) -> set[str]:
        own = {tier_id: tier.features for tier_id, tier in self.tiers.items()}
        return rules.resolve_features(tier_id, self.parent_of, own)

    def enforced_features(self, tier_id: str) -> set[str]:
        display_only = {key for key, feature in self.features.items() if feature.display_only}
        return rules.enforcement_features(self.display_features(tier_id), display_only)

    def check_features(self, keys: Collection[str], field: str) -> None:
        unknown = sorted(set(keys) - set(self.features))
        if unknown:
            raise ValidationFailed(
                f"{field} names features this product does not have: {', '.join(unknown)}",
                code="UNKNOWN_FEATURE",
                unknown=unknown,
            )

    def check_parent(self, tier_id: str, parent_id: str | None) -> None:
        if parent_id is not None and parent_id not in self.tiers:
            raise ValidationFailed(
                f"includesTierId {parent_id} is not a tier of this product",
                code="UNKNOWN_PARENT_TIER",
            )
        rules.check_parent(tier_id, parent_id, self.parent_of)

    def to_schema(self, tier_id: str) -> schemas.Tier:
        tier = self.tier(tier_id)
        stored = prices(tier)
        return schemas.Tier(
            tier_id=tier.tier_id,
            product_id=tier.product_id,
            code=tier.code,
            name=tier.name,
            description=tier.description,
            includes_tier_id=tier.includes_tier_id,
            monthly_price=stored["monthly"],
            annual_price=stored["annual"],
            currency=tier.currency,
            billing_periods=list(tier.billing_periods),
            max_users=int(tier.max_users),
            max_tenants=int(tier.max_tenants),
            features=list(tier.features),
            quotas={k: _shown(schemas.Quota, v) for k, v in tier.quotas.items()},
            heartbeat=_shown(schemas.HeartbeatPolicy, tier.heartbeat),
            offline=_shown(schemas.OfflinePolicy, tier.offline),
            step_up={k: _shown(schemas.StepUpRequirement, v) for k, v in tier.step_up.items()},
            self_service=tier.self_service,
            sensitive=tier.sensitive,
            resolved=schemas.ResolvedTier(
                features=sorted(self.enforced_features(tier_id)),
                display_features=sorted(self.display_features(tier_id)),
                chain=rules.chain(tier_id, self.parent_of),
            ),
            created_at=tier.created_at,
            updated_at=tier.updated_at,
        )


_TIER_FIELDS = (
    "name",
    "description",
    "includes_tier_id",
    "monthly_price",
    "annual_price",
    "currency",
    "billing_periods",
    "max_users",
    "max_tenants",
    "features",
    "quotas",
    "heartbeat",
    "offline",
    "step_up",
    "self_service",
    "sensitive",
)


#: The tier's policies and their domain types: a body's models become these values at
#: this edge, and back (:func:`_shown`), through their one spelling (camelCase).
_POLICIES: dict[str, type[policies.Policy]] = {
    "quotas": policies.Quota,
    "heartbeat": policies.HeartbeatPolicy,
    "offline": policies.OfflinePolicy,
    "step_up": policies.StepUpRule,
}


def _stored_value(body: schemas.RequestModel, name: str) -> Any:
    value = getattr(body, name)
    policy = _POLICIES.get(name)
    if policy is None:
        return value
    if isinstance(value, dict):
        return {k: policy.parse(v.model_dump(by_alias=True)) for k, v in value.items()}
    return policy.parse(value.model_dump(by_alias=True))


def _shown(model: type[Shown], policy: policies.Policy) -> Shown:
    """A policy as the API shows it."""
    return model.model_validate(policy.serialized())


def _write_tier(product_id: str, apply: Any) -> schemas.Tier:
    """Read the catalog, let ``apply`` check and build the tier, write it; retried when
    another tier write lands in between (so checks always see the current graph)."""
    for attempt in range(TIER_WRITE_ATTEMPTS):
        catalog = ProductCatalog.load_for_write(product_id)
        tier, new = apply(catalog)
        try:
            store.save_tier(tier, catalog.product, new=new)
        except ConcurrentChange:
            if attempt == TIER_WRITE_ATTEMPTS - 1:
                raise
            continue
        ProductCatalog.forget(product_id)
        catalog.tiers[tier.tier_id] = tier
        return catalog.to_schema(tier.tier_id)
    raise AssertionError("unreachable")


def prices(tier: TierRecord) -> dict[str, int | None]:
    """Each billing period's price as stored (None: not set), whether offered or not."""
    return {
        period: None if price is None else int(price)
        for period, price in (("monthly", tier.monthly_price), ("annual", tier.annual_price))
    }


def offered_prices(tier: TierRecord) -> dict[str, int]:
    """The periods the tier is sold for, each with its price (see ``domain/tiers``)."""
    return rules.offered_prices(tier.billing_periods, prices(tier))


def _by_price(tier: TierRecord) -> tuple[float, str]:
    """Cheapest first, by the price per month of the periods offered."""
    offered = offered_prices(tier)
    per_month: list[float] = [offered["monthly"]] if "monthly" in offered else []
    per_month += [offered["annual"] / 12] if "annual" in offered else []
    return min(per_month, default=0), tier.code


def _check_tier(catalog: ProductCatalog, tier: TierRecord) -> None:
    catalog.check_features(list(tier.features), "features")
    catalog.check_features(tier.step_up, "stepUp")
    catalog.check_parent(tier.tier_id, tier.includes_tier_id)
    rules.check_prices(tier.billing_periods, prices(tier))


def create_tier(product_id: str, body: schemas.TierCreate) -> schemas.Tier:
    def apply(catalog: ProductCatalog) -> tuple[TierRecord, bool]:
        now = utcnow()
        tier = TierRecord(
            product_id,
            new_id(TIER_ID_PREFIX),
            code=body.code,
            created_at=now,
            updated_at=now,
            **{name: _stored_value(body, name) for name in _TIER_FIELDS},
        )
        _check_tier(catalog, tier)
        return tier, True

    return _write_tier(product_id, apply)


def update_tier(product_id: str, tier_id: str, body: schemas.TierUpdate) -> schemas.Tier:
    def apply(catalog: ProductCatalog) -> tuple[TierRecord, bool]:
        tier = catalog.tier(tier_id)
        for name in body.model_fields_set:
            setattr(tier, name, _stored_value(body, name))
        tier.updated_at = utcnow()
        _check_tier(catalog, tier)
        return tier, False

    return _write_tier(product_id, apply)


def get_tier(product_id: str, tier_id: str) -> schemas.Tier:
    return ProductCatalog.load(product_id).to_schema(tier_id)


def list_tiers(product_id: str) -> schemas.TierList:
    catalog = ProductCatalog.load(product_id)
    ordered = sorted(catalog.tiers.values(), key=_by_price)
    return schemas.TierList(items=[catalog.to_schema(t.tier_id) for t in ordered])


def pricing(product_id_or_code: str) -> schemas.Pricing:
    """The public pricing view: every tier with the periods it is sold for, their prices,
    and all features to show."""
    catalog = ProductCatalog.load(product_id_of(product_id_or_code))
    return schemas.Pricing(
        product_code=catalog.product.code,
        product_name=catalog.product.name,
        description=catalog.product.description,
        tiers=[
            _pricing_tier(catalog, tier) for tier in sorted(catalog.tiers.values(), key=_by_price)
        ],
    )


def _pricing_tier(catalog: ProductCatalog, tier: TierRecord) -> schemas.PricingTier:
    offered = offered_prices(tier)
    return schemas.PricingTier(
        code=tier.code,
        name=tier.name,
        description=tier.description,
        includes=catalog.tiers[tier.includes_tier_id].code if tier.includes_tier_id else None,
        monthly_price=offered.get("monthly"),
        annual_price=offered.get("annual"),
        currency=tier.currency,
        billing_periods=list(offered),
        max_users=int(tier.max_users),
        self_service=tier.self_service,
        features=[
            schemas.PricingFeature(
                key=key,
                name=catalog.features[key].name,
                description=catalog.features[key].description,
                display_only=catalog.features[key].display_only,
            )
            for key in sorted(catalog.display_features(tier.tier_id))
            if key in catalog.features
        ],
    )


def referenced(load: Any, field: str) -> Any:
    """A lookup of an id given in a body: a missing record is a 422, not a 404."""
    try:
        return load()
    except NotFound as error:
        raise ValidationFailed(f"{field}: {error.detail}", code=error.code, field=field) from error
