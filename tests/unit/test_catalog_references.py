"""A product or tier reference is an id or a code, never both: ids begin with a prefix
(``prd_``, ``tier_``) that no new code may begin with, in any case."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from licensing_core import schemas
from licensing_core.domain.ids import PRODUCT_ID_PREFIX, TIER_ID_PREFIX, is_catalog_id, new_id
from pydantic import ValidationError

CODES = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


@given(st.sampled_from([PRODUCT_ID_PREFIX, TIER_ID_PREFIX]))
def test_every_catalog_id_is_read_as_an_id(prefix: str) -> None:
    assert is_catalog_id(new_id(prefix))


@given(CODES)
def test_a_code_is_accepted_exactly_when_it_cannot_be_read_as_an_id(code: str) -> None:
    body = {"code": code, "name": "N"}
    if is_catalog_id(code):
        with pytest.raises(ValidationError, match="ids do"):
            schemas.ProductCreate.model_validate(body)
    else:
        assert schemas.ProductCreate.model_validate(body).code == code


@pytest.mark.parametrize("code", ["prd_x", "PRD_x", "Tier_gold", "tier_"])
def test_id_shaped_codes_are_refused_for_products_and_tiers(code: str) -> None:
    with pytest.raises(ValidationError, match="ids do"):
        schemas.ProductCreate(code=code, name="N")
    tier = {"code": code, "name": "N", "monthlyPrice": 0, "currency": "EUR",
            "billingPeriods": ["monthly"], "maxUsers": 1}  # fmt: skip
    with pytest.raises(ValidationError, match="ids do"):
        schemas.TierCreate.model_validate(tier)
    assert schemas.TierCreate.model_validate({**tier, "code": "gold"}).annual_price is None
