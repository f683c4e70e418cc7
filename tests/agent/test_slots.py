"""Slots from chat messages: catalog filters in English and romanised Hindi, plus the brand.

The words come from the search query parser (app.search.query_parse) and the catalog's alias
tables, so these cases also pin down the Hinglish vocabulary product search now understands.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.agent.slots import extract_slots, price_direction
from app.catalog.demo import BRANDS
from app.search.constraints import Filters
from tests.support.vocabulary import demo_vocabulary

DEMO = demo_vocabulary()
ALL_BRANDS = tuple(brand for group in BRANDS.values() for brand in group)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("shaadi ke liye red lehenga 20k tak",
         {"occasion": "wedding", "colors": ["red"], "category": "lehenga", "max_price": 20000}),
        ("between 5000 and 8000", {"min_price": 5000, "max_price": 8000}),
        ("under 20k", {"max_price": 20000}),
        ("₹15,000 budget", {"max_price": 15000}),
        ("budget 15000", {"max_price": 15000}),
        ("my budget is 15k", {"max_price": 15000}),
        ("laal saree 5000 se kam", {"colors": ["red"], "category": "saree", "max_price": 5000}),
        ("neeli kurti size M", {"colors": ["blue"], "category": "kurta", "sizes": ["M"]}),
        ("party wear dress for women above 3000",
         {"occasion": "party", "category": "dress", "gender": "women", "min_price": 3000}),
        ("red silk lehenga under 20000 size M",
         {"colors": ["red"], "fabric": "silk", "category": "lehenga", "max_price": 20000, "sizes": ["M"]}),
        ("shadi ke liye sherwani purush", {"occasion": "wedding", "category": "sherwani", "gender": "men"}),
        ("ladkiyon ke liye hari kurti", {"gender": "women", "colors": ["green"], "category": "kurta"}),
        ("mahila safed saree", {"gender": "women", "colors": ["white"], "category": "saree"}),
        ("ladke ke liye kala kurta", {"gender": "men", "colors": ["black"], "category": "kurta"}),
        ("peeli saree haldi ke liye", {"colors": ["yellow"], "category": "saree", "occasion": "wedding"}),
        ("gulabi lehenga", {"colors": ["pink"], "category": "lehenga"}),
        ("kaali jeans", {"colors": ["black"], "category": "jeans"}),
        ("10k ke andar kurta", {"max_price": 10000, "category": "kurta"}),
        ("3000 ke neeche dupatta", {"max_price": 3000, "category": "dupatta"}),
        ("2000 se upar ki kurti", {"min_price": 2000, "category": "kurta"}),
        ("5000 se zyada wali saree", {"min_price": 5000, "category": "saree"}),
        ("5000 se 8000 tak saree", {"min_price": 5000, "max_price": 8000, "category": "saree"}),
        ("2000 aur 4000 ke beech kurti", {"min_price": 2000, "max_price": 4000, "category": "kurta"}),
        ("20 hazaar tak ka lehenga", {"max_price": 20000, "category": "lehenga"}),
        ("kam se kam 3000", {"min_price": 3000}),
        ("M size mein neeli kurti", {"sizes": ["M"], "colors": ["blue"], "category": "kurta"}),
        ("tyohar ke liye kurta", {"occasion": "festive", "category": "kurta"}),
        ("size M aur L", {"sizes": ["M", "L"]}),
        ("chunni chahiye", {"category": "dupatta"}),
        ("in blue", {"colors": ["blue"]}),
    ],
)
def test_slots(text: str, expected: dict[str, Any]) -> None:
    assert extract_slots(text, DEMO).as_dict() == expected


@pytest.mark.parametrize(
    "text",
    [
        "where is my order 45821",
        "order #SS-20931 status",
        "call me on 9876543210",
        "can you deliver to pincode 400001",
        "delivery in 2 days?",
        "i am 5 feet 4 and 60 kg which size",
        "compare the first two",
        "under armour",
        "hi",
        "",
    ],
)
def test_not_slots(text: str) -> None:
    """Order numbers, phone numbers, pincodes, heights and weights are not prices or sizes."""
    assert extract_slots(text, DEMO, ALL_BRANDS).as_dict() == {}


def test_size_range_is_not_a_price() -> None:
    slots = extract_slots("sherwani size 38-40", DEMO)
    assert slots.sizes == ("38", "40")
    assert slots.min_price is None and slots.max_price is None


@pytest.mark.parametrize(
    ("text", "brand", "rest"),
    [
        ("kurta by utsav threads", "Utsav Threads", {"category": "kurta"}),
        ("RANGREZ & CO saree", "Rangrez & Co", {"category": "saree"}),
        ("rangrez and co saree", "Rangrez & Co", {"category": "saree"}),
        ("house of meher lehenga under 2 lakh", "House of Meher",
         {"category": "lehenga", "max_price": 200000}),
        # a brand's words are not slots of their own
        ("indigo lane kurta in red", "Indigo Lane", {"category": "kurta", "colors": ["red"]}),
        ("jute junction tote", "Jute Junction", {"category": "bags"}),
        ("denim district jeans", "Denim District", {"category": "jeans"}),
    ],
)
def test_brand(text: str, brand: str, rest: dict[str, Any]) -> None:
    slots = extract_slots(text, DEMO, ALL_BRANDS)
    assert slots.brand == brand
    assert {k: v for k, v in slots.as_dict().items() if k != "brand"} == rest


def test_brand_needs_whole_words() -> None:
    assert extract_slots("kalakritis", DEMO, ALL_BRANDS).brand is None
    assert extract_slots("northlines", DEMO, ALL_BRANDS).brand is None
    assert extract_slots("kalakriti dupatta", DEMO, ALL_BRANDS).brand == "Kalakriti"


def test_no_brands_given_means_no_brand() -> None:
    assert extract_slots("utsav threads kurta", DEMO).brand is None


def test_slots_are_the_shared_constraints_type() -> None:
    """The agent's slots are the same `Filters` product search and chat use: one as_dict."""
    slots = extract_slots("house of meher red lehenga under 2 lakh", DEMO, ALL_BRANDS)
    assert slots == Filters(category="lehenga", brand="House of Meher", colors=("red",), max_price=200000)
    assert Filters.from_dict(slots.as_dict()) == slots


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("show me cheaper ones", "lower"),
        ("sasta dikhao", "lower"),
        ("kuch saste wale", "lower"),
        ("something more affordable", "lower"),
        ("something more premium", "higher"),
        ("thoda mehenga bhi chalega", "higher"),
        ("too expensive", "lower"),  # a price objection
        ("yeh bahut mehenga hai", "lower"),
        ("that's over my budget", "lower"),
        ("cheaper than 5000", None),  # an explicit bound: a slot, not a direction
        ("in blue", None),
    ],
)
def test_price_direction(text: str, direction: str | None) -> None:
    assert price_direction(text) == direction
