"""Bases and field types every body shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from licensing_core.domain.emails import email_key
from licensing_core.domain.ids import CATALOG_ID_STARTS, is_catalog_id
from licensing_core.schemas.fields import Code


class ApiModel(BaseModel):
    """Base of every body: camelCase aliases, Python names accepted too."""

    # defer_build: schemas are built on first use, not at import (cold starts, see bench)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, defer_build=True
    )


class RequestModel(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _not_an_id(code: str) -> str:
    if is_catalog_id(code):
        raise ValueError(f"a code cannot begin with {' or '.join(CATALOG_ID_STARTS)}: ids do")
    return code


#: The code of a new product or tier: never shaped like an id, so a reference is one or
#: the other (``domain/ids.is_catalog_id``).
CatalogCode = Annotated[Code, AfterValidator(_not_an_id)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


FeatureKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._~-]{1,128}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Money = Annotated[StrictInt, Field(ge=0, le=10**12, description="Integer minor units (cents).")]
Count = Annotated[StrictInt, Field(ge=1, le=10**9)]


def _email(value: str) -> str:
    """An address as typed (for display), once :func:`email_key` accepts it: every
    uniqueness check, lookup and rate limit uses that key, never this form."""
    email_key(value)
    return value.strip()


Email = Annotated[str, StringConstraints(min_length=3, max_length=254), AfterValidator(_email)]
MetadataValue = Annotated[str, StringConstraints(max_length=256)] | StrictInt | StrictBool
Metadata = Annotated[
    dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")], MetadataValue
    ],
    Field(max_length=32, description="Up to 32 string, integer or boolean values."),
]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("values must be unique")
    return values


class PageQuery(RequestModel):
    limit: int = Field(default=50, ge=1, le=100, description="Page size (1-100).")
    cursor: Cursor | None = Field(default=None, description="`nextCursor` of the previous page.")


#: A search's cursor: longer than a listing's, it may carry a Unicode email key.
SearchCursor = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class SearchQuery(RequestModel):
    limit: int = Field(
        default=50,
        ge=1,
        le=100,
        description="Page size (1-100); a page may hold fewer (even none) and a "
        "`nextCursor`: each page examines a bounded number of index items.",
    )
    cursor: SearchCursor | None = Field(
        default=None, description="`nextCursor` of the previous page, with the same filters."
    )


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("the date is out of range") from error


#: A moment with a time zone, normalized to UTC (dates at the edges of time are refused).
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]


IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")]
