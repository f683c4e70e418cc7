"""Completions as a shopper types (app/search/suggest.py)."""

from __future__ import annotations

from app.catalog.demo import generate_catalog
from app.search.suggest import Completion, Suggester, catalog_phrases

PRODUCTS = [
    {"sku": "1", "category": "saree", "subcategory": "silk saree", "brand": "Tara Jewels", "colors": ["red"],
     "attributes": {"fabric": "silk", "occasion": "wedding"}},
    {"sku": "2", "category": "saree", "subcategory": "silk saree", "brand": "Tara Jewels", "colors": ["red"],
     "attributes": {"fabric": "silk"}},
    {"sku": "3", "category": "kurta", "subcategory": "straight kurta", "brand": "Rangrez", "colors": ["blue"],
     "attributes": {"fabric": "cotton"}},
]


def texts(found: list[Completion]) -> list[str]:
    return [c.text for c in found]


def test_the_catalog_phrases_count_the_products_they_describe() -> None:
    phrases = {text: phrase.count for text, phrase in catalog_phrases(PRODUCTS).items()}
    assert phrases["red silk saree"] == 2 and phrases["red saree"] == 2  # the kind and the category
    assert phrases["silk saree"] == 2 and phrases["saree"] == 2
    assert phrases["wedding silk saree"] == 1
    assert phrases["cotton straight kurta"] == 1 and phrases["rangrez"] == 1


def test_a_phrase_keeps_its_best_products_in_stock_first() -> None:
    products = [{"sku": f"s{i}", "category": "saree", "rating": r, "in_stock": stock}
                for i, (r, stock) in enumerate([(4.9, False), (3.0, True), (4.5, True), (4.0, True), (4.7, True),
                                                (2.0, True)])]
    found = Suggester(catalog_phrases(products)).complete("sar")
    assert found[0].skus == ("s4", "s2", "s3", "s1")


def test_a_prefix_completes_heaviest_first() -> None:
    suggester = Suggester(catalog_phrases(PRODUCTS))
    found = suggester.complete("re")
    assert texts(found)[:2] == ["red saree", "red silk saree"]  # equal counts: the shorter first
    assert all(c.source == "catalog" for c in found)


def test_a_phrase_is_found_from_any_of_its_words_and_in_any_order() -> None:
    suggester = Suggester(catalog_phrases(PRODUCTS))
    assert "red silk saree" in texts(suggester.complete("sar"))
    assert "cotton straight kurta" in texts(suggester.complete("cotton ku"))
    assert "cotton straight kurta" in texts(suggester.complete("kurta cott"))
    assert texts(suggester.complete("blue sar")) == []  # no blue saree is sold


def test_typos_in_the_last_and_the_finished_words() -> None:
    suggester = Suggester(catalog_phrases(PRODUCTS))
    assert "cotton straight kurta" in texts(suggester.complete("cottn kur"))
    assert "red silk saree" in texts(suggester.complete("red sarre"))
    assert texts(suggester.complete("xyzzy")) == []
    assert texts(suggester.complete("   ")) == []


def test_popular_searches_join_in_the_shoppers_script() -> None:
    searches = {"чёрное платье": 30, "شلوار جین آبی": 20, "red saree for wedding": 5}
    suggester = Suggester(catalog_phrases(PRODUCTS), searches)
    assert texts(suggester.complete("черн")) == ["чёрное платье"]  # ё and е are one letter
    assert texts(suggester.complete("شلوار")) == ["شلوار جین آبی"]
    assert texts(suggester.complete("شلوار جين")) == ["شلوار جین آبی"]  # Arabic ي for Persian ی
    found = suggester.complete("red saree f")
    assert found == [Completion("red saree for wedding", "search")]  # no products of its own


def test_the_busiest_search_weighs_as_much_as_the_largest_phrase() -> None:
    catalog = catalog_phrases(PRODUCTS)
    quiet = Suggester(catalog, {"red scarf": 1, "red silk saree sale": 100})
    found = texts(quiet.complete("red s"))
    assert found[:3] == ["red saree", "red silk saree", "red silk saree sale"]  # equal weight: the shorter first
    assert found[-1] == "red scarf"


def test_a_demo_sized_catalog() -> None:
    suggester = Suggester(catalog_phrases(generate_catalog(2000)))
    found = texts(suggester.complete("cotton ku", limit=6))
    assert len(found) == 6 and all("cotton" in t and "kurt" in t for t in found)
