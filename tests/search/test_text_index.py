"""Text normalisation and the BM25 index: ranking, typos, as-you-type prefixes, live updates."""

from __future__ import annotations

import math
from typing import Any

import pytest

from app.catalog.demo import generate_catalog
from app.search.text import fold, normalize, terms, tokens, words
from app.search.text_index import (
    B,
    FIELD_WEIGHTS,
    K1,
    TextIndex,
    build_index,
    deletions,
    edit_distance,
    max_edits,
)


def product(title: str, description: str = "", **extra: Any) -> dict[str, Any]:
    return {"title": title, "description": description, **extra}


def index_of(**titles: str) -> TextIndex:
    index = TextIndex()
    for doc_id, title in titles.items():
        index.add(doc_id, product(title))
    return index


def ids(results: list[tuple[str, float]]) -> list[str]:
    return [doc_id for doc_id, _ in results]


# -- text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("lehengas", "lehenga"),
        ("dresses", "dress"),
        ("dress", "dress"),
        ("shoes", "shoe"),
        ("kurtis", "kurti"),
        ("accessories", "accessory"),
        ("hoodies", "hoody"),
        ("hoodie", "hoody"),
        ("watches", "watch"),
        ("jeans", "jean"),
        ("men", "man"),
        ("mens", "man"),
        ("women", "woman"),
        ("status", "status"),
        ("bus", "bus"),
        ("xxl", "xxl"),
        ("2000", "2000"),
    ],
)
def test_fold_undoes_plurals(word: str, folded: str) -> None:
    assert fold(word) == folded


def test_normalize_and_split() -> None:
    assert normalize("ＳＩＬＫ Men’s") == "silk mens"  # NFKC folds full-width letters
    assert words("Red/Gold  silk-saree!") == ["red", "gold", "silk", "saree"]
    assert tokens("Cotton T-Shirt") == ["cotton", "t", "shirt", "tshirt"]
    # stopwords and lone letters are not terms; repeats are kept (they are counts)
    assert terms("A red saree for the red carpet") == ["red", "saree", "red", "carpet"]


# -- edit distance and deletions -----------------------------------------------------------


def test_edit_distance_counts_a_swap_as_one_edit() -> None:
    assert edit_distance("lehenga", "lehenga", 2) == 0
    assert edit_distance("lehegna", "lehenga", 2) == 1
    assert edit_distance("lehnga", "lehenga", 2) == 1
    assert edit_distance("sherwani", "shrwni", 2) == 2
    assert edit_distance("silk", "cotton", 2) == 3  # capped at limit + 1


def test_max_edits_thresholds() -> None:
    assert [max_edits("x" * n) for n in (3, 4, 5, 8, 9, 12)] == [0, 0, 1, 1, 2, 2]


def test_deletions() -> None:
    assert deletions("abc", 1) == {"abc", "bc", "ac", "ab"}
    assert "a" in deletions("abc", 2)


# -- BM25 -----------------------------------------------------------------------------------


def test_score_is_bm25_over_weighted_fields() -> None:
    index = TextIndex()
    index.add("a", {"title": "Silk Saree"})
    index.add("b", {"title": "Cotton Kurta", "description": "Cotton kurta"})
    # "silk": weighted tf = the title weight, doc a length 2 title words, doc b 2 title words
    # and 2 description words, each counted at its field's weight
    title, description = FIELD_WEIGHTS["title"], FIELD_WEIGHTS["description"]
    len_a, len_b = 2 * title, 2 * title + 2 * description
    avgdl = (len_a + len_b) / 2
    idf = math.log(1 + (2 - 1 + 0.5) / (1 + 0.5))
    tf = title
    expected = idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len_a / avgdl))
    [(doc_id, score)] = index.search("silk ")
    assert doc_id == "a"
    assert score == pytest.approx(expected)


def test_title_hit_beats_description_hit() -> None:
    index = TextIndex()
    index.add("desc", product("Cotton Kurta", "Pairs well with a silk dupatta."))
    index.add("title", product("Red Silk Saree"))
    index.add("none", product("Blue Denim Jeans"))
    assert ids(index.search("silk ")) == ["title", "desc"]


def test_rare_term_outweighs_common_term() -> None:
    index = index_of(
        r1="Red Cotton Kurta", r2="Red Silk Saree", r3="Red Linen Shirt", r4="Red Dress",
        v="Velvet Blazer",
    )
    assert ids(index.search("red velvet "))[0] == "v"


def test_shorter_document_ranks_first_for_the_same_match() -> None:
    index = TextIndex()
    index.add("long", product("Silk Saree", "Handwoven with zari border and a rich pallu for weddings."))
    index.add("short", product("Silk Saree"))
    assert ids(index.search("silk ")) == ["short", "long"]


def test_more_matched_terms_rank_higher() -> None:
    index = index_of(a="Red Silk Lehenga", b="Red Cotton Lehenga", c="Green Silk Saree")
    assert ids(index.search("red silk lehenga "))[0] == "a"


def test_fields_beyond_the_title_are_searchable() -> None:
    index = TextIndex()
    index.add(
        "p",
        {
            "title": "Anarkali Suit",
            "brand": "House of Meher",
            "category": "anarkali",
            "subcategory": "anarkali suit",
            "colors": ["red"],
            "attributes": {"fabric": "georgette", "work": "gota patti", "gender": "women"},
        },
    )
    for query in ("meher ", "georgette ", "gota ", "red ", "women "):
        assert ids(index.search(query)) == ["p"], query


def test_plurals_meet_singulars_and_hyphen_forms_meet() -> None:
    index = index_of(l="Bridal Lehenga", d="Wrap Dress", s="Running Shoes", t="Cotton T-Shirt")
    assert ids(index.search("lehengas ")) == ["l"]
    assert ids(index.search("dresses ")) == ["d"]
    assert ids(index.search("shoe ")) == ["s"]
    for query in ("tshirt ", "t-shirt ", "T Shirt "):
        assert ids(index.search(query)) == ["t"], query


def test_stopwords_do_not_match() -> None:
    index = index_of(a="Dress for a Party", b="Kurta for the Office")
    assert ids(index.search("party for ")) == ["a"]


# -- typos ------------------------------------------------------------------------------------


def test_one_typo_allowed_from_five_letters() -> None:
    index = index_of(l="Velvet Lehenga", s="Silk Saree")
    assert ids(index.search("lehnga ")) == ["l"]  # missing letter
    assert ids(index.search("lehegna ")) == ["l"]  # swapped letters
    assert ids(index.search("velvat ")) == ["l"]  # wrong letter
    assert ids(index.search("sareee ")) == ["s"]  # extra letter


def test_no_typos_below_five_letters() -> None:
    index = index_of(s="Silk Saree")
    assert index.search("silj ") == []
    assert index.search("slik ") == []


def test_two_typos_only_from_nine_letters() -> None:
    index = index_of(e="Embroidered Jacket", s="Wedding Sherwani")
    assert ids(index.search("embrodred ")) == ["e"]  # 9 letters, 2 edits
    assert index.search("shrwni ") == []  # 6 letters, 2 edits
    assert ids(index.search("shrwani ")) == ["s"]  # 7 letters, 1 edit


def test_a_known_term_is_not_expanded_to_its_neighbours() -> None:
    index = index_of(shirt="Linen Shirt", skirt="Denim Skirt")
    assert ids(index.search("shirt ")) == ["shirt"]


def test_one_typo_scores_like_the_word_and_two_typos_below_it() -> None:
    # A misspelt word the index does not know stands for its correction: a lower weight would
    # only shrink that word against the others in the query.
    index = index_of(v="Velvet Saree", e="Embroidered Kurta", c="Cotton Saree")
    assert index.search("velvat ") == index.search("velvet ")
    [(_, exact)] = index.search("embroidered ")
    [(doc, one)] = index.search("embroiderd ")
    [(_, two)] = index.search("embriodred ")  # a swap and a deletion
    assert doc == "e" and one == exact and 0 < two < one


# -- as-you-type prefixes ----------------------------------------------------------------------


def test_last_word_matches_as_a_prefix() -> None:
    index = index_of(l="Bridal Lehenga", s="Silk Saree", k="Cotton Kurta")
    assert ids(index.search("leh")) == ["l"]
    assert ids(index.search("ku")) == ["k"]


def test_trailing_space_ends_the_prefix() -> None:
    index = index_of(l="Bridal Lehenga")
    assert index.search("leh ") == []


def test_only_the_last_word_is_a_prefix() -> None:
    index = index_of(l="Bridal Lehenga", s="Silk Saree")
    assert ids(index.search("leh saree")) == ["s"]
    assert set(ids(index.search("saree leh"))) == {"l", "s"}


def test_single_letters_do_not_expand() -> None:
    index = index_of(k="Cotton Kurta")
    assert index.search("k") == []


def test_a_whole_known_word_is_not_completed() -> None:
    # A word the index knows is most likely finished: its completions would crowd its own
    # matches (on WANDS, "grey" pulled in the brand "greyleigh").
    index = index_of(silky="Silky Scarf", silk="Silk Scarf")
    assert ids(index.search("silk")) == ["silk"]
    assert set(ids(index.search("sil"))) == {"silk", "silky"}


def test_common_completion_beats_rare_one() -> None:
    index = index_of(a="Bridal Lehenga", b="Flared Lehenga", c="Leheriya Dupatta")
    assert ids(index.search("leh"))[:2] in (["a", "b"], ["b", "a"])


# -- live updates ------------------------------------------------------------------------------


def test_upsert_and_remove_keep_results_current() -> None:
    index = index_of(x="Red Saree", y="Green Kurta")
    assert ids(index.search("red ")) == ["x"]
    index.upsert("x", product("Blue Velvet Kurta"))
    assert len(index) == 2
    assert index.search("red ") == []
    assert ids(index.search("blue ")) == ["x"]
    assert set(ids(index.search("kurta "))) == {"x", "y"}
    index.remove("x")
    assert "x" not in index and len(index) == 1
    assert index.search("blue ") == []
    assert index.search("velvat ") == []  # typo neighbours of removed terms are gone too
    assert index.search("vel") == []  # and so are their completions
    index.upsert("z", product("Organza Dupatta"))
    assert ids(index.search("organz ")) == ["z"]
    assert ids(index.search("orga")) == ["z"]


def test_add_twice_and_remove_missing_are_errors() -> None:
    index = index_of(x="Red Saree")
    with pytest.raises(ValueError):
        index.add("x", product("Blue Saree"))
    with pytest.raises(KeyError):
        index.remove("nope")


def test_removing_everything_leaves_an_empty_index() -> None:
    index = index_of(x="Red Saree", y="Blue Saree")
    index.remove("x")
    index.remove("y")
    assert len(index) == 0 and index.vocabulary_size == 0
    assert index.search("saree") == []


def test_candidates_limit_and_empty_queries() -> None:
    index = index_of(a="Silk Saree", b="Silk Kurta", c="Silk Dupatta", d="Cotton Saree")
    assert ids(index.search("silk ", candidates={"b", "d"})) == ["b"]
    assert index.search("silk", candidates=set()) == []
    assert len(index.search("silk ", limit=2)) == 2
    assert index.search("   ") == [] and index.search("") == []
    assert index.search("zzzzzz") == []


# -- on the generated catalog --------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog_index() -> tuple[TextIndex, dict[str, dict[str, Any]]]:
    products = generate_catalog(3000)
    return build_index(products), {p["sku"]: p for p in products}


def test_catalog_search_finds_the_right_kind_of_product(
    catalog_index: tuple[TextIndex, dict[str, dict[str, Any]]],
) -> None:
    index, by_sku = catalog_index
    cases = {
        "red silk lehenga": "lehenga",
        "sherwnai": "sherwani",
        "leh": "lehenga",
        "banarasi sarees ": "saree",
        "jhumkas": "jewellery",
        "leather jacket": "jacket",
    }
    for query, category in cases.items():
        top = index.search(query, limit=10)
        assert len(top) == 10, query
        assert {by_sku[sku]["category"] for sku, _ in top} == {category}, query


# -- coordination and corrections ------------------------------------------------------------


def test_a_product_holding_more_of_the_words_ranks_first() -> None:
    # Plain BM25 puts "rare" first (idf of "ladder" 1.99 against 1.14 + 0.15 for "metal" and
    # "bed"); scaled by the share of the words held (1/3 against 2/3), "both" wins.
    index = TextIndex()
    index.add("rare", product("Bunk Ladder"))
    index.add("both", product("Metal Bed"))
    index.add("shelf", product("Metal Shelf"))
    index.add("hook", product("Metal Hook"))
    for n in range(6):
        index.add(f"bed{n}", product(f"Wooden Bed {n}"))
    assert ids(index.search("ladder metal bed "))[:2] == ["both", "rare"]
    # the rule itself: each word's BM25 contribution, times the share of the query's words held
    # (of those some product holds: a word none holds lowers every product alike)
    assert index.scores("hook ladder ")["rare"] == pytest.approx(index.scores("ladder ")["rare"] / 2)
    assert index.scores("frame ladder ")["rare"] == index.scores("ladder ")["rare"]
    both = index.scores("metal bed hook ")["both"]
    assert both == pytest.approx((index.scores("metal ")["both"] + index.scores("bed ")["both"]) * 2 / 3)


def test_corrected_replaces_only_unknown_words_by_their_closest_term() -> None:
    index = index_of(v="Velvet Saree", w="Wooden Wardrobe")
    assert index.corrected("grey wardrbe") == "grey wardrobe"  # "grey" is unknown, has no match
    assert index.corrected("velvat sarees") == "velvet sarees"  # known words keep their form
    assert index.corrected("velvet saree ") == "velvet saree "  # nothing corrected: as given


def test_a_run_together_word_matches_both_halves() -> None:
    index = index_of(t="Oak Room Tables", r="Room Divider", c="Coffee Table", b="Bed Frame")
    assert index.split("roomtable") == ("room", "table")
    assert ids(index.search("roomtables "))[0] == "t"  # both halves first
    assert set(ids(index.search("roomtables "))) == {"t", "r", "c"}
    assert ids(index.search("oak bedframe"))[0] == "b"  # the as-you-type last word too
    assert index.corrected("small roomtables") == "small room table"
    assert index.split("tables") is None  # no split into two known terms of 3+ letters


def test_a_known_word_or_a_typo_is_not_split() -> None:
    index = index_of(c="Carpet Runner", p="Car Pet Seat", a="Oak Bedframe", b="Bed", f="Framed Print")
    assert ids(index.search("carpet ")) == ["c"]  # known: never split
    assert index.split("bedframed") == ("bed", "framed")
    assert ids(index.search("bedframed ")) == ["a"]  # one edit from "bedframe": corrected, not split


def test_a_reading_holds_what_the_groups_and_the_correction_say_alone() -> None:
    index = index_of(t="Oak Room Tables", r="Room Divider", v="Velvet Saree", w="Wooden Wardrobe")
    for query in ("small wardrbe", "velvat sarees", "roomtables ", "oak roomtab", "velvet sar", "wo", "", "veelvet  "):
        reading = index.read(query)
        assert reading.query == query
        assert reading.groups == index.query_groups(query)
        assert reading.corrected == index.corrected(query)
        assert index.scores(reading) == index.scores(query)
