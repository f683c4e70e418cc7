"""Terms in every script: Devanagari, Persian and Arabic, Hebrew, Cyrillic (Latin is in
test_text_index.py). Documents and queries go through the same `terms`, so each test states
which spellings must meet."""

from __future__ import annotations

import pytest

from app.search.text import fold, normalize, terms, words
from app.search.text_index import TextIndex


def same_terms(*spellings: str) -> None:
    first = terms(spellings[0])
    assert first, f"{spellings[0]!r} has no terms"
    for other in spellings[1:]:
        assert terms(other) == first, (other, terms(other), first)


# -- Devanagari ----------------------------------------------------------------------------


def test_vowel_signs_and_virama_stay_in_the_word() -> None:
    # The defect: "लाल साड़ी" had no terms at all (each vowel sign split its word apart).
    assert words("लाल साड़ी") == ["लाल", "साडी"]
    assert words("सिल्क कुर्ता") == ["सिल्क", "कुर्ता"]  # virama inside सिल्क
    assert len(terms("लाल साड़ी")) == 2


def test_vowel_signs_of_every_indic_script_stay_in_the_word() -> None:
    # No stemmer for these yet, but their words are whole terms: Bengali, Tamil, Gujarati "red saree".
    assert terms("লাল শাড়ি") == ["লাল", "শাড়ি"]
    assert terms("சிவப்பு புடவை") == ["சிவப்பு", "புடவை"]
    assert terms("લાલ સાડી") == ["લાલ", "સાડી"]


def test_nukta_forms_meet() -> None:
    precomposed = "\u095c"  # ड़ as one code point
    decomposed = "\u0921\u093c"  # ड + nukta
    same_terms(f"सा{precomposed}ी", f"सा{decomposed}ी", "साडी")
    same_terms("ज़री", "जरी")


def test_hindi_inflections_meet() -> None:
    same_terms("साड़ी", "साड़ियाँ", "साड़ियां")
    same_terms("नीला", "नीली", "नीले")


def test_hindi_function_words_are_not_terms() -> None:
    assert terms("शादी के लिए लाल साड़ी") == terms("शादी लाल साड़ी")


# -- Persian and Arabic --------------------------------------------------------------------


def test_arabic_and_persian_letter_forms_meet() -> None:
    same_terms("پیراهن", "پيراهن")  # Persian yeh, Arabic yeh
    same_terms("کیف", "كيف")  # keheh, Arabic kaf
    same_terms("جامه", "جامة")  # heh, teh marbuta
    same_terms("مشکی", "مشكى")  # alef maksura as a final yeh


def test_harakat_and_tatweel_are_removed() -> None:
    same_terms("قرمز", "قِرْمِز", "قـــرمز")


def test_zwnj_keeps_a_word_whole() -> None:
    # With a zero-width non-joiner, joined, or as two words: the plural meets the singular.
    assert len(words("کفش\u200cها")) == 1
    same_terms("کفش", "کفش\u200cها", "کفشها", "کفش ها")


def test_native_digits_become_ascii() -> None:
    assert words("۲۰۰۰ ٢٠٠٠ २००० 2000") == ["2000"] * 4
    assert normalize("زیر ۲ میلیون") == "زیر 2 میلیون"


# -- Hebrew --------------------------------------------------------------------------------


def test_niqqud_is_removed() -> None:
    same_terms("שמלה", "שִׂמְלָה")
    # qubuts and holam are written as a vav without niqqud
    same_terms("אדומה", "אֲדֻמָּה")
    same_terms("שחורה", "שְׁחֹרָה")
    same_terms("שלום", "שָׁלוֹם")  # a holam already on its vav adds none


def test_geresh_and_gershayim() -> None:
    same_terms("ג׳ינס", "ג'ינס", "גינס")  # geresh, its ASCII stand-in, none
    assert words('מ״מ מ"מ') == ["ממ", "ממ"]  # gershayim and its ASCII stand-in


def test_hebrew_gender_and_number_meet() -> None:
    same_terms("אדום", "אדומה", "אדומים", "אדומות")
    same_terms("לבן", "לבנה")  # final nun and its medial form
    same_terms("שמלה", "שמלות", "שמלת")  # and the construct state
    same_terms("נעליים", "נעלי", "נעל")
    same_terms("חצאית", "חצאיות")
    assert terms("משי") == ["משי"]  # three letters stay whole


# -- Cyrillic ------------------------------------------------------------------------------


def test_yo_is_ye() -> None:
    same_terms("чёрный", "черный", "ЧЁРНЫЙ")


def test_russian_inflections_meet() -> None:
    assert terms("красное платье") == terms("красный платья")
    same_terms("сумка", "сумки", "сумку", "сумкой")  # not "сумок": Snowball keeps fleeting vowels


# -- Latin is as it was --------------------------------------------------------------------


@pytest.mark.parametrize(("word", "folded"), [("dresses", "dress"), ("hoodies", "hoody"), ("men", "man")])
def test_latin_folding_is_unchanged(word: str, folded: str) -> None:
    assert fold(word) == folded


def test_latin_terms_are_unchanged() -> None:
    assert terms("Men's Cotton T-Shirt, Café Noir") == ["man", "cotton", "shirt", "tshirt", "café", "noir"]


# -- in the index ---------------------------------------------------------------------------


def test_a_hindi_query_finds_only_what_it_names() -> None:
    index = TextIndex()
    index.add("red-saree", {"title": "लाल रेशमी साड़ी"})
    index.add("blue-saree", {"title": "नीली सूती साड़ी"})
    index.add("red-kurta", {"title": "लाल कुर्ता"})
    index.add("shoes", {"title": "काले जूते"})
    ranked = [doc for doc, _ in index.search("लाल साड़ी ")]
    assert ranked[0] == "red-saree"
    assert "shoes" not in ranked
