"""The building blocks of every contract: base models and field types with their own refusal
messages ("must be an integer from 1 to 50"; `reading.refusal` puts the field's path in
front of it).

JSON bodies use `Text`, `Int`, `Num`, `Flag`, `Words` (strict JSON types); query strings use
`QInt`, `QNum`, `QBool`, `QChoice`, `QWords`, which read the text forms, ASCII only. Each
type's JSON Schema (for OpenAPI and function calling) comes from the same annotation.

The ones that take arguments are rules, not types: `Annotated[int, QInt(1, 50)]` says the
Python type to mypy and the rules to pydantic (`Rules` is annotated-types' `GroupedMetadata`,
which pydantic unpacks). A field that may be absent is `T | None`; in a query string or a form
it is never null, and the OpenAPI document says so (app/contracts/openapi.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationError,
    WrapValidator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError


class Rules(GroupedMetadata):
    """Validation rules and schema keywords to put in an `Annotated[...]` as one item."""

    def __init__(self, *rules: Any) -> None:
        self.rules = rules

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rules)


class Contract(BaseModel):
    """A request contract: strict JSON types, unknown fields refused, no NaN or Infinity."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True,
                              hide_input_in_errors=True)


class OpenContract(Contract):
    """A request contract whose unknown fields are ignored (kept so for the routes that
    always ignored them: a chat or Aza client sending an extra field is not refused)."""

    model_config = ConfigDict(extra="ignore")


def never_null(schema: dict[str, Any]) -> None:
    """The JSON Schema of a field that may be absent but is never null (`x: T | None = None`
    where null is no value): `T`'s schema, without the `null` and the `default: null`."""
    kept = [s for s in schema.get("anyOf", ()) if s != {"type": "null"}]
    if len(kept) == 1 and len(schema["anyOf"]) == 2:
        del schema["anyOf"]
        schema.update({**kept[0], **schema})
    if "default" in schema and schema["default"] is None:
        del schema["default"]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def Absent(description: str | None = None, **options: Any) -> Any:  # noqa: N802 - a field
    """A payload field that may be absent (`x: T = Absent(...)`): the key is left out; `T` is
    what it holds when present (`float | None`: it may be sent as null too)."""
    return Field(default=None, description=description, json_schema_extra=_no_default, **options)


class NeverNull(BaseModel):
    """A contract whose fields may be absent but are never null (a query string or a form has no
    null): its JSON Schema shows `x: T | None = None` as `T`, so explorers do not offer, and
    schemathesis does not send, a null."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        for prop in schema.get("properties", {}).values():
            never_null(prop)
        return schema


class QueryContract(NeverNull, Contract):
    """A query-string contract: every value arrives as text; unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore")


def example(**values: Any) -> ConfigDict:
    """A contract's example request, one that works against the demo catalog, as its model's
    `model_config`: the JSON Schema's `examples`, which /openapi.json shows as the request's
    example (the /docs explorer fills it in; schemathesis sends it)."""
    return ConfigDict(json_schema_extra={"examples": [values]})


class Payload(BaseModel):
    """A response or event payload: the declaration of what the server sends. Fields not
    declared may be added (`additionalProperties` is left open), so a client must ignore
    fields it does not know."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False, strict=True)


def fail(kind: str, message: str) -> PydanticCustomError:
    """A refusal whose message follows the field's path: `fail("x", "must be ...")`."""
    return PydanticCustomError(kind, message)


def reword(kind: str, message: str) -> WrapValidator:
    """Any failure of the wrapped validation becomes this one message (which names the range
    or the options, unlike pydantic's per-cause messages)."""

    def wrap(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise fail(kind, message) from None

    return WrapValidator(wrap)


# -- text --------------------------------------------------------------------------------------

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def safe_text(value: str) -> str:
    """No NUL characters (C libraries and logs cut at them) and no lone surrogates (not
    Unicode: they cannot be stored, logged or sent as UTF-8). JSON bodies never get here with
    a surrogate (the parser refuses them); Python-mode input can (a JSONL import, a model's
    tool arguments)."""
    found = _UNSAFE.search(value)
    if found is None:
        return value
    if found.group() == "\x00":
        raise fail("text_nul", "must not contain NUL characters")
    raise fail("text_surrogate", "must not contain lone surrogates (it is not valid Unicode text)")


def Text(max_len: int, *, min_len: int = 0, description: str | None = None,  # noqa: N802 - a type's rules
         pattern: str | None = None, examples: list[str] | None = None) -> Rules:
    """A string (`Annotated[str, Text(...)]`), trimmed, then at most `max_len` characters
    (`min_len=1`: not empty)."""
    return Rules(
        StringConstraints(strip_whitespace=True, min_length=min_len or None, max_length=max_len, pattern=pattern),
        AfterValidator(safe_text),
        Field(description=description, examples=examples),
    )


# -- numbers, JSON -----------------------------------------------------------------------------


def Int(low: int, high: int, *, description: str | None = None) -> Rules:  # noqa: N802
    """A JSON integer (`Annotated[int, Int(...)]`) from `low` to `high` (not `10.0`, not `"10"`,
    not `true`)."""
    return Rules(Field(ge=low, le=high, description=description),
                 reword("int_range", f"must be an integer from {low} to {high}"))


def Num(low: float, high: float, *, description: str | None = None) -> Rules:  # noqa: N802
    """A finite JSON number (`Annotated[float, Num(...)]`) from `low` to `high`."""
    return Rules(Field(ge=low, le=high, description=description),
                 reword("number_range", f"must be a number from {low:g} to {high:g}"))


Flag = Annotated[bool, reword("bool", "must be true or false")]


# -- query strings -----------------------------------------------------------------------------

_ASCII_INT = re.compile(r"[+-]?[0-9]{1,18}")
_ASCII_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,18}(?:\.[0-9]{0,12})?|\.[0-9]{1,12})(?:[eE][+-]?[0-9]{1,3})?")


def _query_int(value: Any) -> Any:
    """ASCII digits only: Python's `int()` also reads '²' (and fails: a 500 once) or '٣'."""
    if isinstance(value, str) and _ASCII_INT.fullmatch(text := value.strip()):
        return int(text)
    return value


def _query_number(value: Any) -> Any:
    """An ASCII decimal (thousands separators allowed: '1,299'), never 'nan' or 'inf'."""
    if isinstance(value, str) and _ASCII_NUMBER.fullmatch(text := value.strip().replace(",", "")):
        return float(text)
    return value


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _query_bool(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return value


def QInt(low: int, high: int, *, description: str | None = None) -> Rules:  # noqa: N802
    """`Annotated[int, QInt(...)]`: ASCII digits from `low` to `high`."""
    return Rules(Field(ge=low, le=high, description=description), BeforeValidator(_query_int),
                 reword("int_range", f"must be an integer from {low} to {high}"))


def QNum(low: float, high: float, *, description: str | None = None) -> Rules:  # noqa: N802
    """`Annotated[float, QNum(...)]`: an ASCII decimal from `low` to `high`."""
    return Rules(Field(ge=low, le=high, description=description), BeforeValidator(_query_number),
                 reword("number_range", f"must be a number from {low:g} to {high:g}"))


QBool = Annotated[bool, BeforeValidator(_query_bool), reword("bool", "must be true or false")]


def QChoice(options: tuple[str, ...], *, description: str | None = None) -> Rules:  # noqa: N802
    """`Annotated[str, QChoice(...)]`: one of `options`, case-insensitive."""

    def known(value: str) -> str:
        if value not in options:
            raise ValueError("not one of the options")
        return value

    return Rules(Field(description=description, json_schema_extra={"enum": list(options)}),
                 BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v), AfterValidator(known),
                 reword("choice", f"must be one of: {', '.join(options)}"))


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


_WORD = Annotated[str, Text(64, min_len=1)]

Words = Annotated[list[_WORD], Field(max_length=20)]
"""A JSON array of at most 20 short strings (64 characters)."""

QWords = Annotated[list[_WORD], Field(max_length=20), BeforeValidator(_split),
                   reword("words", "takes at most 20 values of 64 characters")]
"""Comma-separated short strings (`color=red,blue`; OpenAPI `style: form, explode: false`)."""
