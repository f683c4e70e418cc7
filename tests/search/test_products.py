"""The product table's filters, facets and sorting, and rank fusion."""

from __future__ import annotations

from app.catalog.demo import generate_catalog
from app.search.constraints import Filters
from app.search.products import ProductTable, card, facets, sort_key
from app.search.service import rrf

PRODUCTS = [
    {"sku": "a", "title": "Red silk lehenga", "category": "lehenga", "brand": "Ritu", "price": 18000,
     "colors": ["red"], "sizes": ["S", "M"], "in_stock": True, "rating": 4.6, "attributes": {"fabric": "silk"}},
    {"sku": "b", "title": "Red velvet lehenga", "category": "lehenga", "brand": "Ritu", "price": 42000,
     "colors": ["red", "gold"], "sizes": ["M"], "in_stock": False, "rating": 4.1, "attributes": {"fabric": "velvet"}},
    {"sku": "c", "title": "Blue cotton kurta", "category": "kurta", "brand": "Fabindia-ish", "price": 900,
     "colors": ["blue"], "sizes": ["L"], "in_stock": True, "rating": 3.9, "attributes": {"fabric": "cotton"}},
]


def table() -> ProductTable:
    t = ProductTable()
    for product in PRODUCTS:
        t.upsert(dict(product))
    return t


def test_no_filters_means_no_restriction() -> None:
    assert table().candidates(Filters()) is None


def test_filters_and_across_fields_or_within() -> None:
    t = table()
    assert t.candidates(Filters(category="Lehenga", sizes=("m",))) == {"a", "b"}
    assert t.candidates(Filters(colors=("gold", "blue"))) == {"b", "c"}
    assert t.candidates(Filters(category="lehenga", max_price=20000)) == {"a"}
    assert t.candidates(Filters(min_price=900, max_price=900)) == {"c"}
    assert t.candidates(Filters(in_stock=False)) == {"b"}
    assert t.candidates(Filters(fabric="silk")) == {"a"}
    assert t.candidates(Filters(category="saree")) == set()


def test_upsert_replaces_and_remove_forgets() -> None:
    t = table()
    t.upsert({**PRODUCTS[2], "category": "lehenga", "price": 19000})
    assert t.candidates(Filters(category="kurta")) == set()
    assert t.candidates(Filters(category="lehenga", max_price=20000)) == {"a", "c"}
    assert t.remove("a") and not t.remove("a")
    assert t.candidates(Filters(max_price=20000)) == {"c"}
    assert len(t) == 2


def test_explicit_parameters_win_over_parsed_text() -> None:
    merged = Filters(category="saree").merged_over(Filters(category="lehenga", colors=("red",)))
    assert merged == Filters(category="saree", colors=("red",))


def test_facets_count_each_product_once() -> None:
    counts = facets(PRODUCTS)
    assert counts["category"] == [{"value": "lehenga", "count": 2}, {"value": "kurta", "count": 1}]
    assert {"value": "red", "count": 2} in counts["color"]
    assert [band["count"] for band in counts["price"]] == [1, 1, 1]


def test_sorts() -> None:
    pairs = [(p, i / 10) for i, p in enumerate(PRODUCTS)]
    assert [p["sku"] for p, _ in sorted(pairs, key=sort_key("price_asc"))] == ["c", "a", "b"]
    assert [p["sku"] for p, _ in sorted(pairs, key=sort_key("price_desc"))] == ["b", "a", "c"]
    assert [p["sku"] for p, _ in sorted(pairs, key=sort_key("rating"))] == ["a", "b", "c"]
    assert [p["sku"] for p, _ in sorted(pairs, key=sort_key("relevance"))] == ["c", "b", "a"]


def test_card_hides_internals_and_rounds_scores() -> None:
    shown = card({**PRODUCTS[0], "embedding": b"x", "_id": 1}, score=0.123456, vector_score=None)
    assert "embedding" not in shown and "_id" not in shown
    assert shown["score"] == 0.1235 and shown["vector_score"] is None


def test_rrf_rewards_agreement_and_keeps_raw_scores() -> None:
    hits = rrf([("a", 9.0), ("b", 5.0)], [("b", 0.8), ("c", 0.7)])
    assert [h.sku for h in hits] == ["b", "a", "c"]
    b = hits[0]
    assert (b.text_score, b.vector_score) == (5.0, 0.8)
    assert b.score == 1 / 62 + 1 / 61
    assert hits[2].text_score is None


def test_hints_the_catalog_cannot_satisfy_are_dropped() -> None:
    hint = Filters(category="saree", colors=("red", "purple"), fabric="silk", max_price=5000)
    assert table().known(hint) == Filters(colors=("red",), fabric="silk", max_price=5000)
    bare = ProductTable()
    bare.upsert({"sku": "x", "title": "lamp"})
    assert bare.known(hint) == Filters()


def test_bulk_load_sorts_prices_once_and_stays_correct() -> None:
    t = ProductTable()
    for product in reversed(PRODUCTS):
        t.upsert(dict(product), bulk=True)
    assert t.candidates(Filters(max_price=20000)) == {"a", "c"}
    t.upsert({**PRODUCTS[0], "price": 50000})  # a single update after the bulk load
    assert t.candidates(Filters(min_price=40000)) == {"a", "b"}
    assert t.remove("b") and t.candidates(Filters(min_price=40000)) == {"a"}


def test_facet_columns_count_like_the_plain_loop() -> None:
    """The table's numpy facets equal the plain loop's, through updates, removals and reuse."""
    catalog = generate_catalog(600)
    t = ProductTable()
    for product in catalog:
        t.upsert(dict(product), bulk=True)
    for product in catalog[:50]:  # re-priced and re-coloured: the old values must not linger
        t.upsert({**product, "price": product["price"] * 3, "colors": ["teal"], "brand": "Newco"})
    for product in catalog[50:80]:
        t.remove(product["sku"])
    t.upsert({"sku": "bare", "title": "no price, no brand", "colors": ["", "teal"]})
    live = list(t.products.values())
    for subset in (live, live[::7], [p for p in live if "teal" in (p.get("colors") or [])], []):
        assert t.facets([p["sku"] for p in subset]) == facets(subset)
    assert t.facets(["unknown-sku"]) == facets([])


def test_the_store_material_is_a_facet() -> None:
    """The field the vocabulary learns as `fabric` (`attributes.fabric`, else `.material`) is
    counted like the others, so a furniture store shows wood and leather, a jeweller kundan."""
    t = table()
    t.upsert({"sku": "d", "title": "Kundan necklace", "attributes": {"material": "kundan"}})
    skus = ["a", "b", "c", "d"]
    assert t.facets(skus)["fabric"] == [{"value": "cotton", "count": 1}, {"value": "kundan", "count": 1},
                                        {"value": "silk", "count": 1}, {"value": "velvet", "count": 1}]
    assert facets(t.products[s] for s in skus)["fabric"] == t.facets(skus)["fabric"]


def test_fabric_filter_and_facet_read_the_same_field() -> None:
    """`attributes.fabric` wins over `.material`, the material counts when there is no fabric:
    alike for the filter, the columns' facets and the plain facets."""
    t = ProductTable()
    t.upsert({"sku": "both", "attributes": {"fabric": "linen", "material": "oak"}})
    t.upsert({"sku": "material", "attributes": {"material": "Oak"}})
    t.upsert({"sku": "neither", "attributes": {"colour": "oak"}})
    assert t.candidates(Filters(fabric="linen")) == {"both"}
    assert t.candidates(Filters(fabric="oak")) == {"material"}
    skus = ["both", "material", "neither"]
    assert t.facets(skus)["fabric"] == [{"value": "Oak", "count": 1}, {"value": "linen", "count": 1}]
    assert facets(t.products[s] for s in skus)["fabric"] == t.facets(skus)["fabric"]
