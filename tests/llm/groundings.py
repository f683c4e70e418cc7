"""The retrieval results the provider tests ground their answers in."""

from __future__ import annotations

from typing import Any

from app.llm.base import Grounding

PRODUCTS = [
    {"sku": "LH-1", "title": "Red silk wedding lehenga", "brand": "Sabya", "category": "lehenga",
     "price": 24999, "colors": ["red", "gold"], "sizes": ["S", "M", "L"], "rating": 4.6,
     "in_stock": True},
    {"sku": "LH-2", "title": "Pink georgette lehenga", "brand": "Anita", "category": "lehenga",
     "price": 124999.5, "colors": ["pink"], "sizes": ["M"], "rating": 4.1, "in_stock": False},
]
SOURCES = [
    {"text": "Returns are accepted within 30 days of delivery for unworn items with tags.",
     "file_name": "returns-policy.pdf", "page": 2, "score": 0.8},
]


def grounding(
    language: str = "en",
    products: list[dict[str, Any]] = PRODUCTS,
    sources: list[dict[str, Any]] = SOURCES,
    query: str = "red lehenga for a wedding",
) -> Grounding:
    return Grounding(query=query, language=language, products=list(products), sources=list(sources),
                     filters={"category": "lehenga", "max_price": 30000, "colors": []})
