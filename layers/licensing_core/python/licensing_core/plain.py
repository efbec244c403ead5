"""Plain models: bodies parsed and written without pydantic.

What applications send and get (``schemas.validation``, ``schemas.machines``,
``schemas.files``) is read on every cold start of the busiest functions, and
pydantic's import and first schema build are a fifth of such a start (see
``bench/coldstart.py``). Those bodies are frozen dataclasses whose fields carry their
constraints as metadata (``Annotated[str, Text(max_length=512)]``); this module parses
them with pydantic's semantics and error shapes (``missing``, ``string_too_long``...),
and speaks the part of pydantic's model protocol the HTTP edge and the services use
(``model_validate``, ``model_dump``, ``model_dump_json``).

The same metadata turns into pydantic's own constraints when pydantic reads a plain model
(``__get_pydantic_core_schema__``): the OpenAPI document is generated from them as from
every other model, and ``tests/unit/test_plain_models.py`` checks that both parsers agree.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Literal,
    Self,
    Union,
    cast,
    get_args,
    get_origin,
    get_type_hints,
)

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

Extra = Literal["forbid", "allow", "ignore"]
#: What pydantic strips with ``str_strip_whitespace`` and around a number in lax mode:
#: Unicode White_Space, as Rust's ``trim`` (``str.strip()`` also strips U+001C-U+001F).
WHITESPACE = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    map(chr, range(0x2000, 0x200B))
)


def camel(name: str) -> str:
    """``key_token`` -> ``keyToken``: the wire name of a field (pydantic's ``to_camel``
    on snake_case names)."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class _Constraints:
    """Metadata pydantic reads as constraints of the annotated type's own schema.

    Metadata compares by identity (``eq=False``: no generated ``__eq__``, cheaper at
    import); each alias such as ``TokenText`` is written once."""

    def schema_keys(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if value is not None}

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return cast("CoreSchema", {**handler(source), **self.schema_keys()})


@dataclasses.dataclass(frozen=True, eq=False)
class Text(_Constraints):
    """A string's constraints (pydantic's ``StringConstraints``); a pattern is anchored
    at both ends and must match all of the string."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None

    def __post_init__(self) -> None:
        if self.pattern is not None and not (
            self.pattern.startswith("^") and self.pattern.endswith("$")
        ):
            raise ValueError(f"anchor the pattern at both ends: {self.pattern!r}")

    @property
    def compiled(self) -> re.Pattern[str] | None:
        return _compiled(self.pattern) if self.pattern else None


@dataclasses.dataclass(frozen=True, eq=False)
class Bounds(_Constraints):
    """An integer's bounds (pydantic's ``Field(ge=..., le=...)``); integers are strict:
    a boolean, float or string is not one."""

    ge: int | None = None
    le: int | None = None

    def schema_keys(self) -> dict[str, Any]:
        return {**super().schema_keys(), "strict": True}


@dataclasses.dataclass(frozen=True, eq=False)
class Check:
    """A rule run after the constraints (pydantic's ``AfterValidator``): returns the
    value, or raises ``ValueError`` with what is wrong."""

    function: Callable[[Any], Any]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self.function, handler(source))


@dataclasses.dataclass(frozen=True, eq=False)
class Doc:
    """A field's description in the API document (pydantic's ``Field(description=)``)."""

    description: str

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: Any) -> dict[str, Any]:
        document: dict[str, Any] = handler(schema)
        document["description"] = self.description
        return document


class Invalid(ValueError):
    """What pydantic's ``ValidationError`` tells, for a plain model: ``errors()`` lists
    each problem as ``{"loc", "msg", "type"}``."""

    def __init__(self, title: str, problems: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(problems)} validation error(s) for {title}")
        self.problems = problems

    def errors(
        self, *, include_url: bool = False, include_input: bool = False
    ) -> list[dict[str, Any]]:
        return [dict(problem) for problem in self.problems]


class _Failed(Exception):
    """One value's problems, each with its location below that value."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(problems)
        self.problems = problems

    @classmethod
    def one(cls, kind: str, message: str) -> _Failed:
        return cls([{"loc": (), "msg": message, "type": kind}])


class PlainModel:
    """Base of the plain models: subclasses are ``@dataclass(frozen=True, kw_only=True)``.

    ``extra`` says what unknown members do (refused, kept, dropped); ``strip`` strips
    whitespace around strings before their constraints; wire names are camelCase, and
    the field's own name is accepted too."""

    extra: ClassVar[Extra] = "ignore"
    strip: ClassVar[bool] = False
    camel_case: ClassVar[bool] = True
    #: Unknown members kept (``extra = "allow"``), in the order they came.
    __extra__: ClassVar[Mapping[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        config: dict[str, Any] = {"extra": cls.extra, "frozen": True}
        if cls.camel_case:
            config.update(alias_generator=camel, populate_by_name=True)
        if cls.strip:
            config["str_strip_whitespace"] = True
        cls.__pydantic_config__ = config  # type: ignore[attr-defined]  # read by pydantic only

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        """The model of ``data`` (a JSON object), or :class:`Invalid`."""
        try:
            return _parse_model(cls, data)
        except _Failed as failure:
            raise Invalid(cls.__name__, failure.problems) from None

    def model_dump(
        self, *, mode: Literal["python", "json"] = "python", by_alias: bool = False
    ) -> dict[str, Any]:
        """The fields as a dict (kept unknown members last), as pydantic's."""
        values = {
            (_wire_name(type(self), field.name) if by_alias else field.name): _dump(
                getattr(self, field.name), mode
            )
            for field in dataclasses.fields(self)  # type: ignore[arg-type]
        }
        values.update(self.__dict__.get("__extra__", {}))
        return values

    def model_dump_json(self, *, by_alias: bool = False) -> str:
        """Compact JSON, as pydantic writes it (UTC datetimes end in ``Z``)."""
        return json.dumps(
            self.model_dump(mode="json", by_alias=by_alias),
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
        )


class PlainRequest(PlainModel):
    """A request body: unknown members are refused (nothing can be mass-assigned), and
    whitespace around strings is dropped."""

    extra: ClassVar[Extra] = "forbid"
    strip: ClassVar[bool] = True


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _wire_name(model: type[PlainModel], name: str) -> str:
    return camel(name) if model.camel_case else name


#: Each plain model's fields, read once.
_FIELDS: dict[object, tuple[tuple[str, str, Any, Any], ...]] = {}


def _fields(model: type[Any]) -> tuple[tuple[str, str, Any, Any], ...]:
    """Each field's name, wire name, type (with its metadata) and default
    (``dataclasses.MISSING`` when required)."""
    found = _FIELDS.get(model)
    if found is None:
        hints = get_type_hints(model, include_extras=True)
        found = _FIELDS[model] = tuple(
            (field.name, _wire_name(model, field.name), hints[field.name], field.default)
            for field in dataclasses.fields(model)
        )
    return found


def _parse_model(model: type[Any], data: Any) -> Any:
    """``data`` as a plain ``model`` (a subclass of :class:`PlainModel`)."""
    if isinstance(data, model):
        return data
    if not isinstance(data, Mapping):
        raise _Failed.one(
            "model_type",
            f"Input should be a valid dictionary or instance of {model.__name__}",
        )
    values: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
    used: set[str] = set()  # a field given by both names takes the wire one; the other is extra
    for name, wire, kind, default in _fields(model):
        key = wire if wire in data else name if name in data else None
        if key is None:
            if default is dataclasses.MISSING:
                problems.append({"loc": (wire,), "msg": "Field required", "type": "missing"})
            continue
        used.add(key)
        try:
            values[name] = _parse(kind, data[key], model.strip)
        except _Failed as failure:
            problems.extend(_below(key, failure.problems))
    extra = {key: value for key, value in data.items() if key not in used}
    if extra and model.extra == "forbid":
        problems.extend(
            {"loc": (key,), "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
            for key in extra
        )
    if problems:
        raise _Failed(problems)
    parsed = model(**values)
    if extra and model.extra == "allow":
        object.__setattr__(parsed, "__extra__", extra)
    return parsed


def _below(key: str | int, problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**problem, "loc": (key, *problem["loc"])} for problem in problems]


def _parse(kind: Any, value: Any, strip: bool) -> Any:
    """``value`` as ``kind`` (a type, maybe ``Annotated`` with metadata), or _Failed."""
    metadata: tuple[Any, ...] = ()
    if get_origin(kind) is Annotated:
        kind, *extras = get_args(kind)
        metadata = tuple(extras)
        if get_origin(kind) is Annotated:  # an alias of an alias: flatten
            inner, *more = get_args(kind)
            kind, metadata = inner, (*more, *metadata)
    if get_origin(kind) in (Union, types.UnionType):
        parsed = _parse_union(get_args(kind), value, strip)
    elif isinstance(kind, type) and issubclass(kind, PlainModel):
        parsed = _parse_model(kind, value)
    elif kind is str:
        parsed = _parse_text(
            value, strip, next((m for m in metadata if isinstance(m, Text)), Text())
        )
    elif kind is int:
        parsed = _parse_int(value, next((m for m in metadata if isinstance(m, Bounds)), Bounds()))
    else:
        raise TypeError(f"a plain model cannot parse {kind!r}")
    for check in (m for m in metadata if isinstance(m, Check)):
        try:
            parsed = check.function(parsed)
        except ValueError as error:
            raise _Failed.one("value_error", f"Value error, {error}") from None
    return parsed


def _parse_union(members: tuple[Any, ...], value: Any, strip: bool) -> Any:
    """``X | None`` is X that may be null; a union of several tries each in turn, and
    when none takes the value, tells each one's problems under its name."""
    others = tuple(member for member in members if member is not type(None))
    if value is None and len(others) < len(members):
        return None
    if len(others) == 1:
        return _parse(others[0], value, strip)
    problems: list[dict[str, Any]] = []
    for member in others:
        try:
            return _parse(member, value, strip)
        except _Failed as failure:
            problems.extend(_below(_tag(member), failure.problems))
    raise _Failed(problems)


def _tag(member: Any) -> str:
    """A union member's name in an error's location, as pydantic names it: the type's,
    ``constrained-str`` for a string with constraints."""
    if get_origin(member) is not Annotated:
        return str(member.__name__)
    base, *metadata = get_args(member)
    constrained = any(
        isinstance(item, _Constraints) and any(value is not None for value in vars(item).values())
        for item in metadata
    )
    return f"constrained-{base.__name__}" if constrained else str(base.__name__)


def _parse_text(value: Any, strip: bool, text: Text) -> str:
    if not isinstance(value, str):
        raise _Failed.one("string_type", "Input should be a valid string")
    if strip:
        value = value.strip(WHITESPACE)
    if text.min_length is not None and len(value) < text.min_length:
        raise _Failed.one(
            "string_too_short",
            f"String should have at least {_characters(text.min_length)}",
        )
    if text.max_length is not None and len(value) > text.max_length:
        raise _Failed.one(
            "string_too_long",
            f"String should have at most {_characters(text.max_length)}",
        )
    if text.compiled is not None and not text.compiled.fullmatch(value):
        raise _Failed.one(
            "string_pattern_mismatch",
            f"String should match pattern '{text.pattern}'",
        )
    return value


def _characters(count: int) -> str:
    return f"{count} character{'' if count == 1 else 's'}"


def _parse_int(value: Any, bounds: Bounds) -> int:
    if type(value) is not int:
        raise _Failed.one("int_type", "Input should be a valid integer")
    if bounds.ge is not None and value < bounds.ge:
        raise _Failed.one(
            "greater_than_equal",
            f"Input should be greater than or equal to {bounds.ge}",
        )
    if bounds.le is not None and value > bounds.le:
        raise _Failed.one(
            "less_than_equal",
            f"Input should be less than or equal to {bounds.le}",
        )
    return value


def _dump(value: Any, mode: str) -> Any:
    if isinstance(value, PlainModel):
        return value.model_dump(mode=mode)  # type: ignore[arg-type]
    if mode == "json" and isinstance(value, datetime):
        text = value.isoformat()
        return (
            text[:-6] + "Z"
            if value.utcoffset() == UTC.utcoffset(None) and text.endswith("+00:00")
            else text
        )
    return value
