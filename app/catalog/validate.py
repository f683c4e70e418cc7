"""One product row, checked and normalised: the same rules for CSV, JSONL and the JSON API,
declared once as the `ProductRow` model (its JSON Schema is the catalog API's row in
`/openapi.json`).

Only `sku` and `title` are required. A row may come as typed JSON or as CSV text: `price`
"₹1,299", `colors` "Red|Blue" (or a JSON list in the cell), `in_stock` "yes", `attributes`
as JSON text, `attributes.fabric` columns, and any other column with a plain value becomes an
attribute. A bad row yields a reason naming its field (reported with its line number, or its
index in the API); good rows land regardless.

What can be stored is what is refused otherwise: no NaN or Infinity anywhere (1e400 is
Infinity), whole numbers in attributes within 64 bits (what MongoDB stores; 2^63 and above
made the whole write fail after the good rows were stored), attribute values plain (text,
number, true/false), attribute names that MongoDB can store as keys (no leading `$`, no `.`),
and no control characters or lone surrogates in any text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from app.contracts.fields import Contract, Rules, reword, safe_text
from app.contracts.reading import path_of, phrase

Product = dict[str, Any]

KNOWN = (
    "sku", "title", "brand", "category", "subcategory", "description", "colors", "sizes", "price",
    "currency", "in_stock", "rating", "image_url", "attributes",
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LIMITS = {"sku": 64, "title": 300, "brand": 120, "category": 80, "subcategory": 120,
           "description": 5000, "image_url": 1000, "currency": 3}
INT64 = (-(2**63), 2**63 - 1)
_ATTRIBUTE_NAME = re.compile(r"[^$.\x00-\x1f\x7f][^.\x00-\x1f\x7f]{0,59}")


class RowError(ValueError):
    """Why a row was refused; the message is shown to whoever imports. `field` is the
    dotted path of the field at fault within the row (`price`, `attributes.fabric`), or None
    when the row itself is not an object."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _bad(message: str) -> PydanticCustomError:
    return PydanticCustomError("row", message)


# -- field rules (each takes CSV text as well as JSON values) -----------------------------------


def _text(name: str, *, required: bool = False) -> Rules:
    limit = _LIMITS[name]

    def check(value: Any) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise _bad("is required")
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise _bad("must be text")
            value = str(value)
        if not isinstance(value, str):
            raise _bad("must be text")
        value = value.strip()
        if _CONTROL.search(value):
            raise _bad("contains control characters" if not re.search("[\ud800-\udfff]", value)
                       else "contains lone surrogates (it is not valid Unicode text)")
        if len(value) > limit:
            raise _bad(f"is longer than {limit} characters")
        return value

    schema: dict[str, Any] = {"type": "string", "maxLength": limit}
    schema = {**schema, "minLength": 1} if required else {"anyOf": [schema, {"type": "null"}]}
    return Rules(BeforeValidator(check), Field(json_schema_extra=lambda s: _replace(s, schema)))


def _replace(schema: dict[str, Any], new: dict[str, Any]) -> None:
    default = schema.get("default", ...)
    description = schema.get("description")
    schema.clear()
    schema.update(new)
    if description:
        schema["description"] = description
    if default is not ... and default is not None:
        schema["default"] = default


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                raise _bad("is not a valid JSON list") from None
        else:
            value = list(re.split(r"[|,;]", text))
    if not isinstance(value, list) or not all(
        isinstance(v, str) or (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v))
        for v in value
    ):
        raise _bad("must be a list of text values")
    items = [str(v).strip() for v in value if str(v).strip()]
    if len(items) > 50 or any(len(v) > 60 or _CONTROL.search(v) for v in items):
        raise _bad("takes at most 50 values of 60 characters")
    return items


TextList = Annotated[list[str], BeforeValidator(_list), Field(
    json_schema_extra=lambda s: _replace(s, {
        "anyOf": [{"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 60}},
                  {"type": "string", "description": "CSV: values separated by | , or ;, or a JSON list"}]}))]


def _number(low: float, high: float) -> Rules:
    def check(value: Any) -> float | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise _bad("must be a number")
        if isinstance(value, str):
            text = value.strip().replace(",", "").lstrip("₹").strip()
            if not re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?", text):
                raise _bad(f"must be a number, not {value[:30]!r}")
            value = float(text)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _bad("must be a number")
        if not low <= value <= high:
            raise _bad(f"must be between {low:g} and {high:g}")
        return float(value)

    schema = {"anyOf": [{"type": "number", "minimum": low, "maximum": high},
                        {"type": "string", "description": "CSV: digits, with ₹ and thousands separators allowed"},
                        {"type": "null"}]}
    return Rules(BeforeValidator(check), Field(json_schema_extra=lambda s: _replace(s, schema)))


def _flag(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad("must be true or false")
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "y", "in stock"}:
        return True
    if text in {"false", "0", "no", "n", "out of stock"}:
        return False
    raise _bad("must be true or false")


def _attribute_value(value: Any) -> str | int | float | bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            raise _bad("must be a whole number within 64 bits (from -2^63 to 2^63-1)")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad("must be a finite number (not NaN or Infinity)")
        return value
    if isinstance(value, str):
        if len(value) > 500 or _CONTROL.search(value):
            raise _bad("must be text of at most 500 characters, without control characters")
        return value
    raise _bad("must be text, a number or true/false")


class _WithColumns:
    """`attributes` as given, plus the row's other plain fields (CSV columns), merged by the
    field's own validator so that a problem with either is reported as `attributes...`."""

    def __init__(self, raw: Any, columns: dict[str, Any]) -> None:
        self.raw = raw
        self.columns = columns


def _attributes(raw: Any) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    if isinstance(raw, _WithColumns):
        raw, columns = raw.raw, raw.columns
    out = {**_attribute_object(raw), **columns}
    return out


def _attribute_object(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        if not raw.strip():
            return {}
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise _bad("is not a valid JSON object") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad("must be an object")
    return raw


AttributeName = Annotated[str, Field(pattern=f"^{_ATTRIBUTE_NAME.pattern}$"), AfterValidator(safe_text), reword(
    "row", "is not a usable attribute name (1 to 60 characters, not starting with $, without . or control "
    "characters)")]
AttributeValue = Annotated[str | int | float | bool, BeforeValidator(_attribute_value), Field(
    json_schema_extra=lambda s: _replace(s, {"anyOf": [
        {"type": "string", "maxLength": 500}, {"type": "integer", "minimum": INT64[0], "maximum": INT64[1]},
        {"type": "number"}, {"type": "boolean"}]}))]


class ProductRow(Contract):
    """A catalog row. Types are JSON's, and the CSV text forms are taken too; any other field
    with a plain value becomes an attribute (`attributes.fabric` too)."""

    model_config = {"strict": False, "frozen": False, "json_schema_extra": {"additionalProperties": {
        "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}],
        "description": "becomes an attribute (lower-cased name)"}}}

    sku: Annotated[str, _text("sku", required=True)]
    title: Annotated[str, _text("title", required=True)]
    brand: Annotated[str | None, _text("brand")] = None
    category: Annotated[str | None, _text("category")] = Field(default=None, description="lower-cased")
    subcategory: Annotated[str | None, _text("subcategory")] = None
    description: Annotated[str | None, _text("description")] = None
    colors: TextList = Field(default_factory=list, description="lower-cased")
    sizes: TextList = Field(default_factory=list)
    price: Annotated[float | None, _number(0, 1e9)] = Field(default=None, description="in `currency`")
    currency: Annotated[str | None, _text("currency")] = Field(default=None, description="3 letters, INR by default")
    in_stock: Annotated[bool | None, BeforeValidator(_flag), Field(
        json_schema_extra=lambda s: _replace(s, {"anyOf": [{"type": "boolean"}, {"type": "string", "description":
                                                 "CSV: yes/no, true/false, 1/0, in stock/out of stock"},
                                                 {"type": "null"}]}))] = Field(
        default=None, description="true by default")
    rating: Annotated[float | None, _number(0, 5)] = Field(default=None, description="0 to 5")
    image_url: Annotated[str | None, _text("image_url")] = None
    attributes: Annotated[dict[AttributeName, AttributeValue], BeforeValidator(_attributes), Field(
        json_schema_extra=lambda s: s.update({"description": "plain values by name; JSON text in CSV"}))] = Field(
        default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather(cls, row: Any) -> Any:
        """Unknown fields and `attributes.x` columns into `attributes` (lower-cased names)."""
        if not isinstance(row, Mapping):
            raise PydanticCustomError("row_type", "a product must be an object")
        known = {k: v for k, v in row.items() if k in KNOWN}
        columns: dict[str, Any] = {}
        for key, value in row.items():
            if key in KNOWN or not isinstance(key, str) or value in (None, ""):
                continue
            name = key[len("attributes."):] if key.startswith("attributes.") else key
            if isinstance(value, (str, int, float, bool)):
                columns[name.strip().lower()] = value.strip() if isinstance(value, str) else value
        if columns:
            known["attributes"] = _WithColumns(known.get("attributes"), columns)
        return known

    def to_product(self) -> Product:
        product: Product = {"sku": self.sku, "title": self.title}
        for name in ("brand", "subcategory", "description", "image_url"):
            if (value := getattr(self, name)) is not None:
                product[name] = value
        if self.category is not None:
            product["category"] = self.category.lower()
        product["colors"] = [c.lower() for c in self.colors]
        product["sizes"] = list(self.sizes)
        if self.price is not None:
            product["price"] = int(self.price) if self.price.is_integer() else round(self.price, 2)
        currency = self.currency or "INR"
        if not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise RowError("currency must be a 3-letter code", "currency")
        product["currency"] = currency.upper()
        product["in_stock"] = True if self.in_stock is None else self.in_stock
        if self.rating is not None:
            product["rating"] = round(self.rating, 2)
        product["attributes"] = dict(self.attributes)
        return product


def validate_product(row: object) -> Product:
    """A clean product, or `RowError` saying what is wrong (its first problem, in field order).
    `row` is any JSON value as sent: one that is not an object is refused too."""
    try:
        return ProductRow.model_validate(row).to_product()
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        if error["type"] == "row_type":
            raise RowError("a product must be an object") from None
        field = path_of(error["loc"]) or "row"
        raise RowError(f"{field} {phrase(error)}", field) from None
