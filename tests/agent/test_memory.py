"""How follow-ups read against what the agent remembers."""

from __future__ import annotations

from app.agent.memory import Memory, merge, references
from app.search.constraints import Filters

SHOWN = ("A", "B", "C", "D")


def test_follow_up_swaps_only_what_it_names() -> None:
    current = Filters(category="lehenga", colors=("red",), occasion="wedding", max_price=20000, sizes=("M",))
    after = merge(current, Filters(colors=("blue",)))
    assert after == Filters(category="lehenga", colors=("blue",), occasion="wedding", max_price=20000, sizes=("M",))


def test_new_kind_keeps_budget_occasion_gender_only() -> None:
    current = Filters(category="lehenga", colors=("red",), occasion="wedding", gender="women",
                      max_price=20000, sizes=("M",), fabric="silk")
    after = merge(current, Filters(category="saree"))
    assert after == Filters(category="saree", occasion="wedding", gender="women", max_price=20000)


def test_new_ceiling_below_old_floor_drops_the_floor() -> None:
    after = merge(Filters(min_price=5000, max_price=8000), Filters(max_price=3000))
    assert (after.min_price, after.max_price) == (None, 3000)


def test_ordinal_references() -> None:
    assert references("compare the first two", SHOWN) == ["A", "B"]
    assert references("compare both", SHOWN) == ["A", "B"]
    assert references("compare 1 and 3", SHOWN) == ["A", "C"]
    assert references("what about the second one", SHOWN) == ["B"]
    assert references("is the last one in stock", SHOWN) == ["D"]
    assert references("show me #3", SHOWN) == ["C"]
    assert references("compare the first two", ()) == []
    assert references("red lehenga under 20k", SHOWN) == []
    assert references("pehle do compare karo", SHOWN) == ["A", "B"]


def test_memory_round_trips_through_a_document() -> None:
    memory = Memory(preferences=Filters(category="saree", colors=("red", "maroon"), max_price=9000),
                    query="kanjeevaram", shown=("A", "B"), seen=("X", "A", "B"), last_intent="browse_search", turns=3)
    assert Memory.from_doc(memory.to_doc()) == memory
    shown_again = memory.showing(["X", "Y"])
    assert shown_again.shown == ("X", "Y")
    assert shown_again.seen == ("A", "B", "X", "Y")
