"""Shopper queries split into filters and residual words, using the catalog's own vocabulary."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from app.catalog.demo import (
    CATEGORIES,
    CATEGORY_ALIASES,
    COLOR_FAMILIES,
    FABRICS,
    GENDER_ALIASES,
    OCCASION_ALIASES,
    OCCASIONS,
)
from app.search.query_parse import ParsedQuery, parse_query
from tests.support.vocabulary import demo_vocabulary

DEMO = demo_vocabulary()  # learned from the demo catalog over config/vocabulary.toml


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "red silk lehenga under 20000 size M",
            {"colors": ["red"], "fabric": "silk", "category": "lehenga", "max_price": 20000,
             "sizes": ["M"]},
        ),
        ("sarees under 20k", {"category": "saree", "max_price": 20000}),
        ("kurta below ₹15,000", {"category": "kurta", "max_price": 15000}),
        ("dress between 5000 and 8000", {"category": "dress", "min_price": 5000, "max_price": 8000}),
        ("shoes above 3000", {"category": "shoes", "min_price": 3000}),
        ("jeans from 2k to 5k", {"category": "jeans", "min_price": 2000, "max_price": 5000}),
        ("sherwani size 40", {"category": "sherwani", "sizes": ["40"]}),
        ("kurta in blue", {"category": "kurta", "colors": ["blue"]}),
        ("saree under 1.5 lakh", {"category": "saree", "max_price": 150000}),
        ("Rs. 500 to Rs. 999 dupatta", {"category": "dupatta", "min_price": 500, "max_price": 999}),
        ("lehenga 50000 or less", {"category": "lehenga", "max_price": 50000}),
        ("kurta 3000+", {"category": "kurta", "min_price": 3000}),
        ("between 8000 and 5000", {"min_price": 5000, "max_price": 8000}),
        ("saree around 5000", {"category": "saree", "min_price": 4000, "max_price": 6000}),
        ("5000-8000 saree", {"category": "saree", "min_price": 5000, "max_price": 8000}),
        ("t-shirt size s and m", {"category": "t-shirt", "sizes": ["S", "M"]}),
        ("tshirts xl", {"category": "t-shirt", "sizes": ["XL"]}),
        ("shoes size 8", {"category": "shoes", "sizes": ["UK 8"]}),
        ("shoes uk 9", {"category": "shoes", "sizes": ["UK 9"]}),
        ("free size dupatta", {"category": "dupatta", "sizes": ["Free Size"]}),
        ("men's leather jacket", {"category": "jacket", "fabric": "leather", "gender": "men"}),
        ("kurta for women", {"category": "kurta", "gender": "women"}),
        ("show me party dresses", {"category": "dress", "occasion": "party"}),
        ("gray tees", {"category": "t-shirt", "colors": ["grey"]}),
        ("red and gold salwar suit", {"category": "salwar suit", "colors": ["red", "gold"]}),
        ("raw silk sherwani", {"category": "sherwani", "fabric": "raw silk"}),
        ("denim jacket", {"category": "jacket", "fabric": "denim"}),
    ],
)
def test_filters(query: str, expected: dict[str, Any]) -> None:
    parsed = parse_query(query, DEMO)
    assert parsed.filters.as_dict() == expected
    assert parsed.residual == ""


@pytest.mark.parametrize(
    ("query", "residual", "expected"),
    [
        # a shade sets its colour family and stays for text ranking
        ("crimson velvet lehengas for wedding", "crimson",
         {"colors": ["red"], "fabric": "velvet", "category": "lehenga", "occasion": "wedding"}),
        # so does a product word more precise than its category
        ("black heels size 6", "heels", {"colors": ["black"], "category": "sandals", "sizes": ["UK 6"]}),
        ("kurti", "kurti", {"category": "kurta"}),
        ("emerald jhumkas", "emerald jhumkas", {"colors": ["green"], "category": "jewellery"}),
        # words the vocabulary does not know are left for text search
        ("banarasi saree with zari work", "banarasi zari work", {"category": "saree"}),
        # the first category wins; a second stays in the residual
        ("anarkali with dupatta", "dupatta", {"category": "anarkali"}),
        # "under" without an amount is not a price
        ("under armour", "under armour", {}),
        # a bare range of small numbers is not a price
        ("size 38-40 sherwani", "", {"category": "sherwani", "sizes": ["38", "40"]}),
    ],
)
def test_residual(query: str, residual: str, expected: dict[str, Any]) -> None:
    parsed = parse_query(query, DEMO)
    assert parsed.residual == residual
    assert parsed.filters.as_dict() == expected


def test_empty_query() -> None:
    assert parse_query("", DEMO) == ParsedQuery()
    assert parse_query("   ", DEMO).filters.as_dict() == {}


def test_parsed_query_is_frozen() -> None:
    parsed = parse_query("red saree", DEMO)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.residual = "kurta"  # type: ignore[misc]
    assert parsed.filters.colors == ("red",)


# The parser's vocabulary is the catalog's: every name the catalog uses must parse back to itself
# (this also catches one vocabulary swallowing another's word).


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_every_category_and_its_plural_parses(category: str) -> None:
    assert parse_query(category, DEMO).filters.category == category
    if not category.endswith("s"):
        assert parse_query(category + "s", DEMO).filters.category == category


@pytest.mark.parametrize(("alias", "category"), sorted(CATEGORY_ALIASES.items()))
def test_category_aliases(alias: str, category: str) -> None:
    assert parse_query(alias, DEMO).filters.category == category


@pytest.mark.parametrize("fabric", FABRICS)
def test_every_fabric_parses(fabric: str) -> None:
    parsed = parse_query(fabric, DEMO)
    assert parsed.filters.fabric == fabric and parsed.filters.as_dict() == {"fabric": fabric}


@pytest.mark.parametrize(
    ("shade", "family"),
    [(shade, family) for family, shades in COLOR_FAMILIES.items() for shade in shades],
)
def test_every_shade_parses_to_its_family(shade: str, family: str) -> None:
    assert parse_query(shade, DEMO).filters.as_dict() == {"colors": [family]}


@pytest.mark.parametrize(
    ("word", "occasion"), [(o, o) for o in OCCASIONS] + sorted(OCCASION_ALIASES.items())
)
def test_occasions(word: str, occasion: str) -> None:
    assert parse_query(word, DEMO).filters.as_dict() == {"occasion": occasion}


@pytest.mark.parametrize(("word", "gender"), sorted(GENDER_ALIASES.items()))
def test_genders(word: str, gender: str) -> None:
    assert parse_query(word, DEMO).filters.as_dict() == {"gender": gender}


def test_each_word_is_folded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vocabulary is looked up at every span from every word; folding belongs before."""
    import app.search.query_parse as query_parse
    import app.search.text as text

    calls: list[str] = []

    def counting(word: str) -> str:
        calls.append(word)
        return text.fold(word)

    monkeypatch.setattr(query_parse, "fold", counting)
    query = "red silk lehenga with mirror work for a wedding under 20k"
    parsed = query_parse.parse_query(query, demo_vocabulary())
    assert parsed.filters.category == "lehenga" and parsed.filters.colors == ("red",)
    assert len(calls) == len(text.words("red silk lehenga with mirror work for a wedding"))
