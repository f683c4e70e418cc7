"""The demo catalog: reproducible, internally consistent, and priced like a real shop."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

import pytest

from app.catalog.demo import (
    CATEGORIES,
    COLOR_FAMILIES,
    CURRENCY,
    FABRICS,
    FREE_SIZE,
    GENDERS,
    MATERIALS,
    OCCASIONS,
    generate_catalog,
    retail_price,
)

FIELDS = {
    "sku", "title", "brand", "category", "subcategory", "description", "colors", "sizes",
    "price", "currency", "in_stock", "rating", "image_url", "attributes",
}


@pytest.fixture(scope="module")
def catalog() -> list[dict[str, Any]]:
    return generate_catalog(5000, seed=7)


def test_same_seed_same_catalog_and_other_seed_differs() -> None:
    assert generate_catalog(300, seed=11) == generate_catalog(300, seed=11)
    assert generate_catalog(300, seed=11) != generate_catalog(300, seed=12)


def test_a_smaller_catalog_is_a_prefix_of_a_larger_one() -> None:
    assert generate_catalog(250) == generate_catalog(1000)[:250]


def test_default_size_and_unique_skus(catalog: list[dict[str, Any]]) -> None:
    assert len(generate_catalog()) == 5000
    skus = [p["sku"] for p in catalog]
    assert len(set(skus)) == len(skus)
    assert skus[0] == "SS-000001" and skus[122] == "SS-000123"
    assert all(re.fullmatch(r"SS-\d{6}", sku) for sku in skus)


def test_every_product_has_valid_fields(catalog: list[dict[str, Any]]) -> None:
    for p in catalog:
        assert set(p) == FIELDS, p["sku"]
        spec = CATEGORIES[p["category"]]
        assert p["subcategory"] in {name for name, _, _ in spec.subcategories}
        assert p["currency"] == CURRENCY == "INR"
        assert isinstance(p["price"], int)
        assert isinstance(p["in_stock"], bool)
        assert isinstance(p["rating"], float) and 1.0 <= p["rating"] <= 5.0
        assert round(p["rating"], 1) == p["rating"]
        assert p["image_url"].startswith("/pictures/product.svg?category=")
        assert p["title"].strip() and p["brand"].strip()
        assert p["colors"] and set(p["colors"]) <= set(COLOR_FAMILIES)
        assert len(set(p["colors"])) == len(p["colors"])
        assert p["sizes"] and set(p["sizes"]) <= set(spec.sizes)


def test_attributes_match_the_category(catalog: list[dict[str, Any]]) -> None:
    for p in catalog:
        spec = CATEGORIES[p["category"]]
        attrs = p["attributes"]
        assert attrs["occasion"] in OCCASIONS
        assert attrs["gender"] in GENDERS
        assert attrs[spec.detail_key] in spec.details
        material = attrs[spec.material_key]
        assert material in spec.fabrics
        assert material in (MATERIALS if spec.material_key == "material" else FABRICS)
        assert attrs["shade"] in COLOR_FAMILIES[p["colors"][0]]


def test_sizes_suit_the_category(catalog: list[dict[str, Any]]) -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for p in catalog:
        seen[p["category"]].update(p["sizes"])
    for category in ("saree", "dupatta", "bags", "jewellery"):
        assert seen[category] == {FREE_SIZE}
    assert seen["sherwani"] == {"36", "38", "40", "42", "44", "46"}
    assert seen["shoes"] == {f"UK {n}" for n in range(5, 12)}
    assert seen["lehenga"] == {"XS", "S", "M", "L", "XL", "XXL"}
    assert seen["t-shirt"] == {"XS", "S", "M", "L", "XL", "XXL"}


@pytest.mark.parametrize(
    ("category", "low", "high"),
    [
        ("lehenga", 8_000, 250_000),
        ("saree", 1_500, 80_000),
        ("t-shirt", 399, 2_500),
        ("sherwani", 9_000, 150_000),
        ("jeans", 799, 6_000),
        ("dupatta", 399, 12_000),
    ],
)
def test_prices_stay_in_the_category_band(
    catalog: list[dict[str, Any]], category: str, low: int, high: int
) -> None:
    prices = sorted(p["price"] for p in catalog if p["category"] == category)
    assert prices and low <= prices[0] and prices[-1] <= high
    # a real spread, skewed like a shop: many mid-priced pieces, a long expensive tail
    assert prices[-1] / prices[0] > 3
    median = prices[len(prices) // 2]
    assert median - prices[0] < prices[-1] - median


def test_bridal_lehengas_cost_more_than_t_shirts(catalog: list[dict[str, Any]]) -> None:
    def median(category: str) -> int:
        prices = sorted(p["price"] for p in catalog if p["category"] == category)
        return prices[len(prices) // 2]

    assert median("lehenga") > 10 * median("t-shirt")


def test_catalog_mix(catalog: list[dict[str, Any]]) -> None:
    counts = Counter(p["category"] for p in catalog)
    assert set(counts) == set(CATEGORIES)
    in_stock = sum(p["in_stock"] for p in catalog) / len(catalog)
    assert 0.8 < in_stock < 0.9
    assert len({p["brand"] for p in catalog}) > 30


def test_titles_vary_and_read_cleanly(catalog: list[dict[str, Any]]) -> None:
    titles = [p["title"] for p in catalog]
    assert len(set(titles)) > 0.6 * len(titles)
    for title in titles:
        words = title.lower().split()
        assert all(a != b for a, b in zip(words, words[1:])), title  # no "Denim Denim Jacket"
        assert title == " ".join(title.split())


def test_descriptions_are_one_to_three_sentences(catalog: list[dict[str, Any]]) -> None:
    for p in catalog:
        text = p["description"]
        assert text.endswith(".")
        assert 1 <= text.count(". ") + 1 <= 3, text


def test_jewellery_is_coloured_by_its_metal(catalog: list[dict[str, Any]]) -> None:
    for p in catalog:
        if p["category"] == "jewellery":
            assert p["colors"][0] in ("gold", "silver")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(437.0, 449), (1_873.0, 1_899), (12_400.0, 12_499), (100.0, 399), (900_000.0, 80_000)],
)
def test_retail_price_rounds_to_shelf_prices_within_bounds(value: float, expected: int) -> None:
    assert retail_price(value, 399, 80_000) == expected
