"""Sentence boundaries in streamed text."""

from __future__ import annotations

from app.tts.sentences import SentenceSplitter
from app.tts.speaker import speakable_text


def split_stream(tokens: list[str]) -> list[str]:
    splitter = SentenceSplitter()
    out = [s for token in tokens for s in splitter.feed(token)]
    rest = splitter.flush()
    return out + ([rest] if rest else [])


def test_sentences_complete_across_tokens() -> None:
    tokens = ["This lehenga is red", ". It costs Rs. 1", "2,999 only! Want", " it in blue? Yes"]
    assert split_stream(tokens) == [
        "This lehenga is red.", "It costs Rs. 12,999 only!", "Want it in blue?", "Yes",
    ]


def test_prices_and_abbreviations_do_not_end_sentences() -> None:
    assert split_stream(["Priced at ₹1,299.50 for silk, e.g. this one. Done."]) == [
        "Priced at ₹1,299.50 for silk, e.g. this one.", "Done.",
    ]


def test_hindi_danda_persian_question_and_lines() -> None:
    assert split_stream(["यह लाल है। नीला भी है।", " آیا آبی دارید؟ بله"]) == [
        "यह लाल है।", "नीला भी है।", "آیا آبی دارید؟", "بله",
    ]
    assert split_stream(["- Red saree\n- Blue kurta\n"]) == ["- Red saree", "- Blue kurta"]


def test_long_run_without_punctuation_is_cut_at_a_space() -> None:
    words = ["word"] * 200
    parts = split_stream([" ".join(words)])
    assert all(len(p) <= 300 for p in parts) and " ".join(parts).split() == words


def test_nothing_speakable_is_skipped() -> None:
    assert split_stream(["... !!! ", "\n\n"]) == []


def test_markdown_is_not_read_aloud() -> None:
    assert speakable_text("**Red** [silk saree](/p/1) at `₹999`") == "Red silk saree at ₹999."


def spoken(text: str, lang: str = "en") -> list[str]:
    """What a `Speaker` says for an answer: its sentences as speech text, empty ones skipped."""
    return [s for s in (speakable_text(sentence, lang) for sentence in split_stream([text])) if s]


def test_a_product_line_is_said_without_its_size_list_and_with_its_rating_in_words() -> None:
    line = "- **Red Silk Saree** by Kalakriti: ₹12,999; sizes S, M, L, XL; rated 3.6/5; in stock\n"
    assert spoken(line) == ["Red Silk Saree by Kalakriti: ₹12,999; rated 3.6 out of 5; in stock."]
    assert spoken("**Kurta** is in stock (sizes S, M, L).") == ["Kurta is in stock."]
    assert spoken("- Sizes: S, M vs M, L\n- Stock: in stock vs in stock\n") == ["Stock: in stock vs in stock."]
    assert spoken("It comes in 38, 40 and 42.") == ["It comes in 38, 40 and 42."]  # an answer, not a list


def test_ratings_are_said_as_a_person_would() -> None:
    assert spoken("Loved by buyers: 3.6★. Also rating 4.1 here.") == [
        "Loved by buyers: rated 3.6 out of 5.", "Also rated 4.1 out of 5 here."]
    assert spoken("- Rating: 4.2/5 vs 4.0/5\n") == ["Rated 4.2 out of 5 vs 4.0 out of 5."]
    assert spoken("The best rated of these is Zari Saree at 4.5/5.") == [
        "The best rated of these is Zari Saree at 4.5 out of 5."]
    assert spoken("Delivery in 2 to 5 days, 3 of 5 colours.") == ["Delivery in 2 to 5 days, 3 of 5 colours."]


def test_a_document_quote_is_said_without_its_source_prefix() -> None:
    assert spoken("From returns-policy.txt: Unworn items can be returned within 14 days.") == [
        "Unworn items can be returned within 14 days."]
    assert spoken("From size guide.pdf, page 2: Measure your bust.") == ["Measure your bust."]
    assert spoken("From Monday to Friday: we ship daily.") == ["From Monday to Friday: we ship daily."]


def test_headings_and_bold_lines_are_sentences_of_their_own() -> None:
    assert spoken("## Our picks\nHere are the 4 best:\n**Comparing A and B:**\nA is cheaper") == [
        "Our picks.", "Here are the 4 best.", "Comparing A and B.", "A is cheaper."]


def test_speech_in_other_languages() -> None:
    assert spoken("- **लाल साड़ी** ब्रांड X: ₹999; साइज़ S, M; रेटिंग 4.2/5; स्टॉक में\n", "hi") == [
        "लाल साड़ी ब्रांड X: ₹999; रेटिंग 5 में से 4.2; स्टॉक में।"]
    assert spoken("returns.md के अनुसार: चौदह दिन में वापसी।", "hi") == ["चौदह दिन में वापसी।"]
    assert spoken("Из документа returns.md: Возврат в течение 14 дней.", "ru") == ["Возврат в течение 14 дней."]
