"""The one constraints type (`Filters`): what search, chat and the agent ask for."""

from __future__ import annotations

import json

import pytest

from app.search.constraints import Filters

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
