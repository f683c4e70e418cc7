"""The grounded provider's quoting of uploaded documents."""

from __future__ import annotations

from app.llm.grounded import best_sentences, sentences


def test_a_heading_is_not_run_into_the_sentence_under_it() -> None:
    text = ("# Returns and exchanges\n\nUnworn items can be returned within 10 days.\n"
            "**Shipping**\nOrders above 2,999 rupees ship free\nanywhere in India. Altered items cannot be returned.")
    assert list(sentences(text)) == [
        "Unworn items can be returned within 10 days.",
        "Orders above 2,999 rupees ship free anywhere in India.",  # a wrapped line is one sentence
        "Altered items cannot be returned.",
    ]
    picked = best_sentences("can I return unworn items?", [{"text": text, "score": 0.5}], limit=1)
    assert [sentence for sentence, _ in picked] == ["Unworn items can be returned within 10 days."]
