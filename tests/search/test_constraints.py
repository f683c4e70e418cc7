"""The one constraints type (`Filters`) and the one relaxation order chat and the agent share."""

from __future__ import annotations

import json

import pytest

from app.agent.tools import search_catalog
from app.chat.answer import _products
from app.search.constraints import RELAX_ORDER, Filters, relaxations
from app.search.service import SearchService

EVERYTHING = Filters(category="lehenga", occasion="wedding", fabric="silk", brand="Ritu", sizes=("M", "L"),
                     gender="women", colors=("red", "gold"), min_price=5000, max_price=20000, in_stock=True)


@pytest.mark.parametrize(
    "filters",
    [Filters(), EVERYTHING, Filters(colors=("red",)), Filters(min_price=999.5, in_stock=False), Filters(brand="Rangrez & Co")],
)
def test_as_dict_round_trips_through_json(filters: Filters) -> None:
    stored = json.loads(json.dumps(filters.as_dict()))  # as a session document or an event holds it
    assert Filters.from_dict(stored) == filters


def test_as_dict_lists_only_what_is_asked() -> None:
    assert Filters().as_dict() == {}
    assert Filters(category="saree", colors=("red", "gold"), max_price=5000).as_dict() == {
        "category": "saree", "colors": ["red", "gold"], "max_price": 5000}


def test_from_dict_ignores_unknown_keys_and_empty_values() -> None:
    values = {"category": "kurta", "colour": "red", "sizes": [], "fabric": "", "brand": None, "colors": ["blue"]}
    assert Filters.from_dict(values) == Filters(category="kurta", colors=("blue",))


def test_truth_is_whether_anything_is_asked() -> None:
    assert not Filters()
    assert Filters(sizes=("M",))
    assert Filters(in_stock=False)


def test_spelled_as_the_catalog_spells() -> None:
    typed = Filters(category="Lehenga", brand="House of Meher", colors=("Red", ""), sizes=("m",), min_price=5000.0,
                    max_price=7999.5)
    assert typed.spelled() == Filters(category="lehenga", brand="House of Meher", colors=("red",), sizes=("M",),
                                      min_price=5000, max_price=7999.5)
    assert isinstance(typed.spelled().min_price, int)


def test_the_one_order_drops_everything_but_the_kind_the_budget_and_stock() -> None:
    steps = list(relaxations(EVERYTHING))
    assert [name for name, _ in steps] == list(RELAX_ORDER)
    assert steps[-1][1] == Filters(category="lehenga", max_price=20000, in_stock=True)
    for i, (_, narrower) in enumerate(steps):  # cumulative: each step keeps the earlier drops
        assert all(getattr(narrower, name) in (None, ()) for name in RELAX_ORDER[: i + 1])


def test_least_important_first() -> None:
    """The decision, spelled out: a store label before a property, the floor of a price range
    last of all, and never the kind of product or the budget."""
    assert RELAX_ORDER == ("occasion", "fabric", "brand", "sizes", "gender", "colors", "min_price")
    assert {"category", "max_price", "in_stock"}.isdisjoint(RELAX_ORDER)


def test_unset_fields_are_skipped() -> None:
    assert [name for name, _ in relaxations(Filters(colors=("red",), occasion="party"))] == ["occasion", "colors"]
    assert list(relaxations(Filters(category="saree", max_price=100))) == []


def test_what_the_shopper_asked_goes_last_in_the_one_order() -> None:
    names = [name for name, _ in relaxations(EVERYTHING, asked=Filters(category="saree", colors=("red",), fabric="silk"))]
    assert names == ["occasion", "brand", "sizes", "gender", "min_price", "fabric", "colors"]


# -- chat and the agent relax the same way --------------------------------------------------

CATALOG = [
    {"sku": "r", "title": "Red silk lehenga", "category": "lehenga", "brand": "Ritu", "price": 2000,
     "colors": ["red"], "sizes": ["M"], "in_stock": True, "attributes": {"fabric": "silk", "occasion": "festive"}},
    {"sku": "b", "title": "Blue velvet lehenga", "category": "lehenga", "brand": "Ritu", "price": 9000,
     "colors": ["blue"], "sizes": ["M"], "in_stock": True, "attributes": {"fabric": "velvet", "occasion": "wedding"}},
]


@pytest.fixture
def search() -> SearchService:
    service = SearchService(None, exact_max=100)
    service.build_from([dict(p) for p in CATALOG])
    return service


async def test_chat_drops_the_colour_before_the_price_floor(search: SearchService) -> None:
    """Changed: chat used to drop `min_price` before `colors` (so a red lehenga at 2,000 for
    "above 5000"); the one order, the agent's, keeps the floor the shopper set and shows the
    lehenga above it in another colour."""
    cards, total, applied, _ = await _products(search, "red lehenga above 5000")
    assert applied == {"category": "lehenga", "min_price": 5000}
    assert [c["sku"] for c in cards] == ["b"] and total == 1


async def test_the_agent_relaxes_the_same_question_the_same_way(search: SearchService) -> None:
    asked = Filters(category="lehenga", colors=("red",), min_price=5000)
    found = await search_catalog(search, "lehenga", asked, asked=asked)
    assert found.relaxed == ("colors",) and [c["sku"] for c in found.cards] == ["b"]


async def test_the_agent_drops_the_occasion_before_the_fabric(search: SearchService) -> None:
    """Changed: the agent used to drop `fabric` before `occasion` (a velvet lehenga for
    "silk lehenga for a wedding"); the one order, chat's, gives up the store's occasion label
    first and keeps the fabric, a property of the item."""
    wanted = Filters(category="lehenga", fabric="silk", occasion="wedding")
    found = await search_catalog(search, "lehenga", wanted, asked=wanted)
    assert found.relaxed == ("occasion",) and [c["sku"] for c in found.cards] == ["r"]


async def test_the_agent_keeps_what_the_message_asked_for_longest(search: SearchService) -> None:
    """The occasion named in this message, the fabric only remembered: the fabric goes first."""
    wanted = Filters(category="lehenga", fabric="silk", occasion="wedding")
    found = await search_catalog(search, "lehenga", wanted, asked=Filters(category="lehenga", occasion="wedding"))
    assert found.relaxed == ("fabric",) and [c["sku"] for c in found.cards] == ["b"]
