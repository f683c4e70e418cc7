"""One product row, checked and normalised: the same rules for CSV, JSONL and the JSON API.

Only `sku` and `title` are required. A bad row yields a reason (reported with its line
number); good rows land regardless.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

Product = dict[str, Any]

KNOWN = (
    "sku", "title", "brand", "category", "subcategory", "description", "colors", "sizes", "price",
    "currency", "in_stock", "rating", "image_url", "attributes",
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LIMITS = {"sku": 64, "title": 300, "brand": 120, "category": 80, "subcategory": 120,
           "description": 5000, "image_url": 1000, "currency": 3}


class RowError(ValueError):
    """Why a row was refused; the message is shown to whoever imports."""


def _string(name: str, value: Any, *, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RowError(f"{name} is required")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise RowError(f"{name} must be text")
    value = value.strip()
    if _CONTROL.search(value):
        raise RowError(f"{name} contains control characters")
    if len(value) > _LIMITS[name]:
        raise RowError(f"{name} is longer than {_LIMITS[name]} characters")
    return value


def _list(name: str, value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise RowError(f"{name} is not a valid JSON list") from None
        else:
            value = [part for part in re.split(r"[|,;]", text)]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise RowError(f"{name} must be a list of text values")
    items = [str(v).strip() for v in value if str(v).strip()]
    if len(items) > 50 or any(len(v) > 60 or _CONTROL.search(v) for v in items):
        raise RowError(f"{name} takes at most 50 values of 60 characters")
    return items


def _number(name: str, value: Any, low: float, high: float) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RowError(f"{name} must be a number")
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "").lstrip("₹").strip())
        except ValueError:
            raise RowError(f"{name} must be a number, not {value[:30]!r}") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RowError(f"{name} must be a number")
    if not low <= value <= high:
        raise RowError(f"{name} must be between {low:g} and {high:g}")
    return float(value)


def _bool(name: str, value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "y", "in stock"}:
        return True
    if text in {"false", "0", "no", "n", "out of stock"}:
        return False
    raise RowError(f"{name} must be true or false")


def _attributes(row: Mapping[str, Any]) -> dict[str, Any]:
    """`attributes` as an object (or JSON text), plus `attributes.x` columns and any
    unknown scalar field (a CSV's extra columns become attributes)."""
    raw = row.get("attributes")
    out: dict[str, Any] = {}
    if isinstance(raw, str) and raw.strip():
        try:
            raw = json.loads(raw)
        except ValueError:
            raise RowError("attributes is not a valid JSON object") from None
    if raw not in (None, ""):
        if not isinstance(raw, dict):
            raise RowError("attributes must be an object")
        out.update(raw)
    for key, value in row.items():
        if key in KNOWN or key is None or value in (None, ""):
            continue
        name = key[len("attributes."):] if key.startswith("attributes.") else key
        if isinstance(value, (str, int, float, bool)):
            out[name.strip().lower()] = value.strip() if isinstance(value, str) else value
    for key, value in out.items():
        if not isinstance(key, str) or len(key) > 60:
            raise RowError("attribute names must be text of at most 60 characters")
        if isinstance(value, str) and (len(value) > 500 or _CONTROL.search(value)):
            raise RowError(f"attribute {key} must be text of at most 500 characters")
    return out


def validate_product(row: Mapping[str, Any]) -> Product:
    """A clean product, or `RowError` saying what is wrong."""
    if not isinstance(row, Mapping):
        raise RowError("a product must be an object")
    product: Product = {
        "sku": _string("sku", row.get("sku"), required=True),
        "title": _string("title", row.get("title"), required=True),
    }
    for name in ("brand", "subcategory", "description", "image_url"):
        if (value := _string(name, row.get(name))) is not None:
            product[name] = value
    if (category := _string("category", row.get("category"))) is not None:
        product["category"] = category.lower()
    product["colors"] = [c.lower() for c in _list("colors", row.get("colors"))]
    product["sizes"] = _list("sizes", row.get("sizes"))
    if (price := _number("price", row.get("price"), 0, 1e9)) is not None:
        product["price"] = int(price) if price.is_integer() else round(price, 2)
    currency = _string("currency", row.get("currency")) or "INR"
    if not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise RowError("currency must be a 3-letter code")
    product["currency"] = currency.upper()
    in_stock = _bool("in_stock", row.get("in_stock"))
    product["in_stock"] = True if in_stock is None else in_stock
    if (rating := _number("rating", row.get("rating"), 0, 5)) is not None:
        product["rating"] = round(rating, 2)
    product["attributes"] = _attributes(row)
    return product
