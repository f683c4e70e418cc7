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
    assert speakable_text("**Red** [silk saree](/p/1) at `₹999`") == "Red silk saree at ₹999"
