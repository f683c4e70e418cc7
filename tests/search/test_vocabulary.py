"""The store's own vocabulary: a furniture catalog (data/furniture.csv, 48 products modelled on
WANDS: sofa, bed, table, chair in fabric, leather, wood, velvet...) parses queries in its own
terms, fashion words it does not sell set no filter, and the demo generator plays no part."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import app.catalog.demo as demo
from app.agent.intents import mentions_catalog
from app.catalog.importer import read_rows
from app.catalog.validate import validate_product
from app.search.constraints import Filters
from app.search.query_parse import parse_query
from app.search.service import SearchService
from app.search.vocabulary import CatalogTerms, Term, Vocabulary, learn, load_vocabulary
from tests.support.vocabulary import demo_vocabulary

FURNITURE_CSV = Path(__file__).parent / "data" / "furniture.csv"


@functools.cache
def furniture() -> tuple[dict[str, Any], ...]:
    """The CSV through the catalog importer's reader and validator, as an import stores it."""
    return tuple(validate_product(row) for _, row in read_rows(FURNITURE_CSV))


def furniture_vocabulary() -> Vocabulary:
    return learn(furniture(), load_vocabulary())


def parsed(query: str, vocabulary: Vocabulary) -> dict[str, Any]:
    return parse_query(query, vocabulary).filters.as_dict()


def test_the_furniture_catalog_imports_whole() -> None:
    products = furniture()
    assert len(products) == 48
    assert {p["category"] for p in products} == {"sofa", "bed", "table", "chair"}
    assert products[0]["attributes"]["material"] == "fabric"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("grey fabric sofa under 800", {"category": "sofa", "colors": ["grey"], "fabric": "fabric", "max_price": 800}),
        ("gray leather sofas", {"category": "sofa", "colors": ["grey"], "fabric": "leather"}),
        ("velvet armchair", {"category": "chair", "fabric": "velvet"}),  # a subcategory names its category
        ("brown wood beds between 400 and 900", {"category": "bed", "colors": ["brown"], "fabric": "wood",
                                                 "min_price": 400, "max_price": 900}),
        ("marble coffee table", {"category": "table", "fabric": "marble"}),  # a material the default never knew
    ],
)
def test_a_furniture_store_parses_its_own_terms(query: str, expected: dict[str, Any]) -> None:
    assert parsed(query, furniture_vocabulary()) == expected


@pytest.mark.parametrize("query", ["red silk lehenga", "lehenga", "sarees", "kurti", "denim jacket"])
def test_fashion_words_this_store_does_not_sell_set_no_filter(query: str) -> None:
    assert parse_query(query, demo_vocabulary()).filters.as_dict() != {}  # the demo store sells them
    assert parsed(query, furniture_vocabulary()) == {}
    assert parse_query(query, furniture_vocabulary()).residual == query  # left to text ranking


def test_a_field_the_catalog_does_not_carry_keeps_the_default() -> None:
    # No furniture product has an occasion: the default's words are the only guess, and
    # search drops a filter no product can satisfy (ProductTable.known).
    assert parsed("sofa for a wedding", furniture_vocabulary()) == {"category": "sofa", "occasion": "wedding"}


def test_a_shade_stays_for_ranking_and_sets_the_family_the_store_carries() -> None:
    read = parse_query("charcoal sofa", furniture_vocabulary())
    assert read.filters.as_dict() == {"category": "sofa", "colors": ["grey"]}
    assert read.residual == "charcoal"


def test_the_catalog_spells_a_value_and_keeps_the_default_words_for_it() -> None:
    default = Vocabulary({"colors": {"grey": Term(("gray",), ("charcoal", "slate")), "red": Term(("laal",), ("maroon",))}})
    catalog = [{"sku": "1", "colors": ["gray"]}, {"sku": "2", "colors": ["maroon"]}, {"sku": "3", "colors": ["red"]}]
    vocabulary = learn(catalog, default)
    assert dict(vocabulary.fields["colors"]) == {
        "gray": Term(("grey",), ("charcoal", "slate")),  # spelled as products carry it
        "maroon": Term(),  # carried on its own: a filter of its own, not a shade of red
        "red": Term(("laal",), ()),
    }
    assert parsed("grey", vocabulary) == {"colors": ["gray"]}
    assert parsed("maroon", vocabulary) == {"colors": ["maroon"]}


def test_a_word_two_fields_claim_goes_to_the_one_more_products_carry_it_in() -> None:
    default = Vocabulary({})
    silver_colour = [{"sku": str(i), "colors": ["silver"]} for i in range(3)]
    silver_metal = [{"sku": "m", "colors": ["gold"], "attributes": {"material": "silver"}}]
    assert parsed("silver", learn(silver_colour + silver_metal, default)) == {"colors": ["silver"]}
    metal = [{"sku": str(i), "attributes": {"material": "silver"}} for i in range(3)]
    assert parsed("silver", learn(metal + silver_colour[:1], default)) == {"fabric": "silver"}


def test_the_vocabulary_counts_how_many_products_carry_each_value() -> None:
    vocabulary = furniture_vocabulary()
    assert vocabulary.counts["category"] == {"sofa": 14, "bed": 12, "table": 10, "chair": 12}
    assert vocabulary.values("category")[0] == "sofa"  # the most carried first
    assert "mid-century" in vocabulary.details and "modern" in vocabulary.details


def test_the_agent_knows_a_message_about_this_store() -> None:
    assert mentions_catalog("is the farmhouse one solid", furniture_vocabulary())
    assert not mentions_catalog("is the farmhouse one solid", demo_vocabulary())
    assert mentions_catalog("is that real zari", demo_vocabulary())
    assert not mentions_catalog("is that real zari", furniture_vocabulary())


# -- the search service keeps it current ---------------------------------------------------


def service() -> SearchService:
    search = SearchService(None, exact_max=1000)
    search.build_from(dict(p) for p in furniture())
    return search


def test_search_reads_a_query_in_its_catalog_vocabulary() -> None:
    search = service()
    plan = search.plan("grey fabric sofa under 800", Filters())
    assert plan.filters.as_dict() == {"category": "sofa", "colors": ["grey"], "fabric": "fabric", "max_price": 800}
    assert plan.candidates == {"FN-001", "FN-047"}  # FN-046 is grey fabric too, at 1,150


def test_the_vocabulary_is_rebuilt_when_the_catalog_changes() -> None:
    search = service()
    assert search.plan("teak lamp", Filters()).parsed.filters.as_dict() == {}
    search.index([{"sku": "L1", "title": "Teak floor lamp", "category": "lamp", "attributes": {"material": "teak"}}])
    assert search.plan("teak lamp", Filters()).parsed.filters.as_dict() == {"category": "lamp", "fabric": "teak"}
    search.unindex("L1")
    assert search.plan("teak lamp", Filters()).parsed.filters.as_dict() == {}


def test_an_empty_store_reads_queries_with_the_default() -> None:
    search = SearchService(None, exact_max=1000)
    assert search.plan("red silk lehenga", Filters()).parsed.filters.as_dict() == {
        "colors": ["red"], "fabric": "silk", "category": "lehenga"}


# -- the demo generator plays no part --------------------------------------------------------


@pytest.fixture
def demo_tables_changed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The demo generator's tables rewritten: a new category, aliases, colours, fabrics."""
    monkeypatch.setitem(demo.CATEGORY_ALIASES, "couch", "lehenga")
    monkeypatch.setitem(demo.CATEGORY_KEYWORDS, "sofa", "saree")
    monkeypatch.setitem(demo.COLOR_FAMILIES, "grey", ("grey", "fabric"))
    monkeypatch.setattr(demo, "FABRICS", ("sofa", "grey"))
    monkeypatch.setattr(demo, "OCCASIONS", ("sofa",))
    load_vocabulary.cache_clear()
    yield
    load_vocabulary.cache_clear()


def test_editing_the_demo_generator_does_not_change_parsing(demo_tables_changed: None) -> None:
    assert parsed("grey fabric sofa under 800", furniture_vocabulary()) == {
        "category": "sofa", "colors": ["grey"], "fabric": "fabric", "max_price": 800}
    assert parsed("red silk lehenga under 20k", load_vocabulary()) == {
        "colors": ["red"], "fabric": "silk", "category": "lehenga", "max_price": 20000}
    assert parsed("couch", load_vocabulary()) == {}


def test_counts_kept_product_by_product_equal_a_fresh_count() -> None:
    products = [dict(p) for p in furniture()]
    terms = CatalogTerms.of(products)
    changed = {**products[0], "category": "lamp", "subcategory": "lamp", "attributes": {"material": "teak"}}
    terms.remove(products[0])
    terms.add(changed)
    for gone in products[1:6]:
        terms.remove(gone)
    fresh = CatalogTerms.of([changed, *products[6:]])
    assert (terms.fields, terms.kinds, terms.kind_names, terms.details, terms.brands, terms.products) == (
        fresh.fields, fresh.kinds, fresh.kind_names, fresh.details, fresh.brands, fresh.products)
    assert terms.fields["fabric"]["teak"] == 1 and terms.fields["category"]["lamp"] == 1


def test_of_two_categories_in_a_row_the_last_names_the_thing() -> None:
    # WANDS sells "fabric" (by the yard) and sofas: "grey fabric sofa" asks for a sofa.
    vocabulary = learn([{"sku": "1", "category": "fabric"}, {"sku": "2", "category": "sofas"}], load_vocabulary())
    read = parse_query("grey fabric sofa under 800", vocabulary)
    assert read.filters.as_dict() == {"category": "sofas", "colors": ["grey"], "max_price": 800}
    assert read.residual == "fabric"
    # Apart, the first still wins, and the second is left to text ranking.
    assert parse_query("sofa with fabric", vocabulary).filters.category == "sofas"


def test_a_subcategory_naming_another_category_keeps_its_own() -> None:
    # The demo's "anarkali kurta" is an anarkali: the store's subcategory says so, where the
    # shipped default alone reads the last category ("kurta").
    assert parse_query("anarkali kurta", demo_vocabulary()).filters.category == "anarkali"
    assert parse_query("anarkali kurta", load_vocabulary()).filters.category == "kurta"
    assert parse_query("anarkali suit", demo_vocabulary()).filters.category == "anarkali"


def test_the_demo_stores_jewellery_materials_are_filters_now() -> None:
    # The one change on the demo catalog: the generator's FABRICS left out jewellery materials,
    # though the product table filters `fabric` on `attributes.material` too; learned from
    # the catalog, "kundan" is what the store carries, so it filters.
    assert parsed("kundan necklace", demo_vocabulary()) == {"fabric": "kundan", "category": "jewellery"}
    assert parsed("kundan necklace", load_vocabulary()) == {"category": "jewellery"}
    assert parsed("silver jhumkas", demo_vocabulary()) == {"colors": ["silver"], "category": "jewellery"}


def test_a_kind_filed_under_several_categories_sets_no_filter() -> None:
    # WANDS files sofas under "sofas", "patio sofas", "reception sofas & loveseats": "sofas"
    # as a filter would drop the others. It sets nothing, but still names the thing, so the
    # category before it ("fabric", sold by the yard) is not taken either.
    catalog = [{"sku": str(i), "category": c} for i, c in enumerate(["fabric", "sofas", "patio sofas", "beds"])]
    vocabulary = learn(catalog, load_vocabulary())
    assert vocabulary.broad == ("sofas",)
    read = parse_query("grey fabric sofa", vocabulary)
    assert read.filters.as_dict() == {"colors": ["grey"]}
    assert read.residual == "fabric sofa"
    assert parsed("fabric", vocabulary) == {"category": "fabric"}
    assert parsed("patio sofa", vocabulary) == {"category": "patio sofas"}
    assert parsed("king bed", vocabulary) == {"category": "beds"}


def test_a_store_can_ship_its_own_default(tmp_path: Path) -> None:
    own = tmp_path / "vocabulary.toml"
    own.write_text('[category.sofa]\naliases = ["couch", "settee"]\n\n[colors.grey]\naliases = ["gray"]\n'
                   '[details]\nwords = ["tufted"]\n', encoding="utf-8")
    vocabulary = load_vocabulary(own)
    assert parsed("gray couch", vocabulary) == {"category": "sofa", "colors": ["grey"]}
    assert parsed("red lehenga", vocabulary) == {}
    assert vocabulary.names_detail("a tufted one")
    assert SearchService(None, exact_max=10, default_vocabulary=vocabulary).plan(
        "settee", Filters()).parsed.filters.category == "sofa"


def test_a_vocabulary_file_with_an_unknown_section_is_refused(tmp_path: Path) -> None:
    own = tmp_path / "vocabulary.toml"
    own.write_text('[colours.grey]\naliases = ["gray"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="colours"):
        load_vocabulary(own)


def test_the_store_brands_are_part_of_its_vocabulary() -> None:
    vocabulary = furniture_vocabulary()
    assert set(vocabulary.brands) == {"harbor home", "lindell", "oakridge", "tribeca works"}
    assert vocabulary.brands[0] in ("harbor home", "lindell")  # the most carried first
