"""How an answer quotes uploaded documents and states products (the chat's grounded answer and
the sales agent's alike)."""

from __future__ import annotations

from app.conversation.formatting import best_sentences, product_line, sentences, source_label


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


def test_the_best_sentences_share_most_words_with_the_question_and_are_not_repeated() -> None:
    returns = {"text": "Unworn items can be returned within 10 days. Sale items cannot be returned.", "score": 0.4}
    again = {"text": "Unworn items can be returned within 10 days.", "score": 0.9}
    picked = best_sentences("sale items returned", [returns, again])
    # 3 words in common + 0.4, then 2 + 0.9; the sentence in both chunks is quoted once, from the closer one
    assert picked == [("Sale items cannot be returned.", returns), ("Unworn items can be returned within 10 days.", again)]
    assert best_sentences("delivery time?", [returns]) == []  # no word in common: nothing to quote


def test_a_source_is_named_by_its_file_and_page_in_the_answer_language() -> None:
    assert source_label({"file_name": "size guide.pdf", "page": 2, "title": "Sizes"}, "en") == "size guide.pdf, page 2"
    assert source_label({"file_name": "size guide.pdf", "page": 3}, "hi") == "size guide.pdf, पृष्ठ 3"
    assert source_label({"title": "Returns"}, "en") == "Returns"
    assert source_label({}, "en") == "our store documents"


def test_a_product_line_states_only_the_catalog_facts_it_has() -> None:
    saree = {"title": "Red Silk Saree", "brand": "Kalakriti", "price": 12999, "rating": 3.6,
             "sizes": ["S", "M", "L", "XL", "XXL", "3XL", "4XL"]}
    assert product_line(saree, "en") == (
        "- **Red Silk Saree** by Kalakriti: ₹12,999; sizes S, M, L, XL, XXL, 3XL; rated 3.6/5; in stock"
    )  # six sizes at most
    assert product_line({"title": "Kurta", "price": "n/a", "in_stock": False}, "en") == (
        "- **Kurta**: currently out of stock"
    )
    assert product_line({"title": "Kurta", "brand": "B"}, "hi") == "- **Kurta** ब्रांड B: स्टॉक में"
