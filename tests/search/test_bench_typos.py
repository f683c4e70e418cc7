"""The relevance bench's one-typo twin of a query set (bench/typos.py): what its figures rest on."""

from __future__ import annotations

from app.search.text_index import edit_distance
from bench.typos import one_typo

QUERIES = ["king poster bed", "meditation", "small wardrobe grey", "delta trinsic", "huge bookcase",
           "fleur de lis living candle wall sconce bronze", "70s inspired furniture"]


def test_one_edit_in_one_word_of_five_letters_never_the_first_letter() -> None:
    for query in QUERIES:
        typo = one_typo(query)
        changed = [(a, b) for a, b in zip(query.split(), typo.split()) if a != b]
        assert len(typo.split()) == len(query.split()) and len(changed) == 1, (query, typo)
        [(word, misspelt)] = changed
        assert len(word) >= 5 and edit_distance(word, misspelt, 2) == 1
        assert misspelt[0] == word[0]


def test_the_same_set_every_run_and_a_seed_changes_it() -> None:
    assert [one_typo(q) for q in QUERIES] == [one_typo(q) for q in QUERIES]
    assert one_typo("king poster bed") == "king powster bed"  # pinned: the bench's figures use it
    assert [one_typo(q, seed=1) for q in QUERIES] != [one_typo(q) for q in QUERIES]


def test_a_query_without_a_long_enough_word_is_kept() -> None:
    assert one_typo("red bed") == "red bed"
    assert one_typo("70s tv") == "70s tv"
