"""The shopper's language, shared by search and the agent: one detector, one reading, no
lexicon entry the stemmer already reaches, one table of units."""

from __future__ import annotations

import tomllib

import pytest

from app.language.detect import detect_language
from app.language.reading import DEFAULT_PATH, READ, in_english, language_of, load_lexicons
from app.search.query_parse import extract_prices
from app.search.text import fold, normalize, words


@pytest.mark.parametrize(("text", "language"), [
    ("قرمز", "fa"),  # letters both write alike: a Persian shop's word
    ("پیراهن قرمز", "fa"),
    ("فستان أحمر", "ar"),  # hamza on alef: an Arabic keyboard
    ("كتاب جميلة", "ar"),
    ("لباس زیبا", "fa"),  # farsi yeh
    ("लाल साड़ी", "hi"), ("красное платье", "ru"), ("שמלה אדומה", "he"), ("laal saree", "en"), ("2000", "en"),
])
def test_one_detector_for_the_chat_and_the_agent(text: str, language: str) -> None:
    assert detect_language(text) == language
    assert language_of(text) == (language if language in READ else "en")


def test_no_lexicon_entry_is_reached_by_another_with_the_same_reading() -> None:
    """An entry whose stems another entry has, read the same, is dead weight: the reader finds
    the other by the stem (config/languages.toml's header)."""
    with DEFAULT_PATH.open("rb") as fh:
        raw = tomllib.load(fh)
    redundant = []
    for language, spec in raw.items():
        first: dict[tuple[str, ...], tuple[str, str]] = {}
        for phrase, reading in spec.get("words", {}).items():
            stems = tuple(fold(w) for w in words(normalize(phrase)))
            if stems in first and first[stems][1] == reading:
                redundant.append((language, phrase, first[stems][0]))
            first.setdefault(stems, (phrase, reading))
    assert redundant == []


@pytest.mark.parametrize(("text", "low", "high"), [
    ("under 2 million", None, 2_000_000), ("до 5 миллионов", None, 5_000_000),
    ("زیر ۲ میلیون", None, 2_000_000), ("3 करोड़ तक", None, 30_000_000), ("1.5 lakh se kam", None, 150_000),
    ("کیف زیر ۲ میلیون ریال", None, 200_000),
])
def test_amount_units_are_one_table(text: str, low: int | None, high: int | None) -> None:
    _, got_low, got_high = extract_prices(normalize(in_english(text)))
    assert (got_low, got_high) == (low, high)


def test_lexicons_load_every_read_language() -> None:
    assert set(READ) <= set(load_lexicons())
