"""The cross-lingual labelled queries (`data/queries_crosslingual.json`: Hindi in Devanagari and
romanised, Persian, Russian and Hebrew, on the English demo catalog), shared by
tests/search/test_crosslingual.py and bench/multilingual.py."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from app.catalog.demo import generate_catalog
from tests.search.native import DATA

LANGUAGES = ("hi", "hi_latn", "fa", "ru", "he")
SETS = ("dev", "blind")
CATALOG_SIZE = 5000


@cache
def queries(name: str, lang: str) -> tuple[dict[str, Any], ...]:
    doc = json.loads((DATA / "queries_crosslingual.json").read_text(encoding="utf-8"))
    return tuple(doc[name][lang])


@cache
def catalog(size: int = CATALOG_SIZE) -> tuple[dict[str, Any], ...]:
    return tuple(generate_catalog(size))


def fits(product: dict[str, Any], query: dict[str, Any]) -> bool:
    """Whether a product is what the query asks for: its category, colour and price bounds."""
    price = product["price"]
    return (product["category"] == query["category"]
            and ("color" not in query or query["color"] in product["colors"])
            and price <= query.get("max_price", price) and price >= query.get("min_price", price))


def relevant(query: dict[str, Any], products: tuple[dict[str, Any], ...] | None = None) -> set[str]:
    return {p["sku"] for p in (products if products is not None else catalog()) if fits(p, query)}
