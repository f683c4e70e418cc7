"""The grounded prompt (`app.llm.prompts`): what the model is told, in which language, and how
much of the conversation it sees."""

from __future__ import annotations

import pytest

from app.llm.base import Grounding, Message
from app.llm.prompts import MAX_PRODUCTS, build_messages, build_system_prompt, language_name
from tests.llm.groundings import PRODUCTS, grounding


def test_messages_name_the_language_and_carry_products_and_sources() -> None:
    messages = build_messages([Message("user", "سلام، لهنگا قرمز دارید؟")], grounding("fa"))
    system = messages[0]
    assert system["role"] == "system"
    text = system["content"]
    assert "Answer in Persian" in text
    assert "ONLY" in text and "discount" in text.lower()
    assert "Red silk wedding lehenga" in text and "Sabya" in text
    assert "₹24,999" in text and "INR" in text
    assert "₹1,24,999.50" in text  # Indian grouping, paise kept
    assert "red, gold" in text and "S, M, L" in text and "4.6/5" in text
    assert "in stock" in text and "OUT OF STOCK" in text
    assert "returns-policy.pdf, page 2" in text and "within 30 days" in text
    assert "clarifying question instead of guessing" in text
    assert messages[-1] == {"role": "user", "content": "سلام، لهنگا قرمز دارید؟"}


@pytest.mark.parametrize(("code", "name"), [("hi", "Hindi"), ("ar", "Arabic"), ("en", "English"),
                                            ("ru", "Russian"), ("he", "Hebrew")])
def test_language_by_name(code: str, name: str) -> None:
    assert f"Answer in {name}." in build_system_prompt(grounding(code))


def test_no_products_or_sources_asks_a_clarifying_question() -> None:
    text = build_system_prompt(grounding("hi", products=[], sources=[]))
    assert "Answer in Hindi" in text
    assert "clarifying question (in Hindi)" in text
    assert "Do not recommend anything" in text
    assert "Products" not in text and "Store documents" not in text


def test_history_is_trimmed_to_the_last_turns_and_ends_with_the_user() -> None:
    history = [Message("system", "ignored")]
    for i in range(10):
        history += [Message("user", f"q{i}"), Message("assistant", f"a{i}")]
    history.append(Message("user", "final question"))
    messages = build_messages(history, grounding(), max_turns=4)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert [m["content"] for m in messages[1:]] == ["q9", "a9", "final question"]
    assert sum(m["role"] == "system" for m in messages) == 1
    # An empty history still asks the grounding's query.
    assert build_messages([], grounding(query="any sarees?"))[1:] == [{"role": "user", "content": "any sarees?"}]


def test_language_codes_with_a_region_or_unknown() -> None:
    assert language_name("pt-BR") == "Portuguese"
    assert language_name("") == "English"
    assert language_name("xx") == "xx"


def test_the_product_list_is_bounded_and_says_how_many_match() -> None:
    many = [{**PRODUCTS[0], "sku": f"LH-{i}", "title": f"Lehenga {i}"} for i in range(20)]
    text = build_system_prompt(Grounding(query="lehenga", language="en", products=many, total=41))
    assert f"the best {MAX_PRODUCTS} of the 41 that match" in text
    assert f"Lehenga {MAX_PRODUCTS - 1};" in text and f"Lehenga {MAX_PRODUCTS};" not in text


def test_a_long_turn_is_clipped() -> None:
    messages = build_messages([Message("user", "x" * 5000)], grounding())
    assert 1500 <= len(messages[-1]["content"]) <= 1501
