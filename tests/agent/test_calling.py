"""The tools offered to a model (function calling) come from the argument models in
app/agent/calling.py, and the same models check the model's calls before anything runs."""

from __future__ import annotations

import logging

import pytest

from app.agent import calling
from app.agent.tools import DESCRIPTIONS

KNOWN = {"SS-1", "SS-2", "SS-3"}


def test_every_tool_is_offered_with_the_schema_of_its_model() -> None:
    offered = {t["function"]["name"]: t["function"] for t in calling.SCHEMAS}
    assert set(offered) == set(calling.ARGUMENTS) == set(DESCRIPTIONS)
    search = offered["search_catalog"]["parameters"]
    assert search["type"] == "object" and search["required"] == ["query"]
    assert search["properties"]["max_price"] == {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1e9,
                                                 "description": "rupees"}
    assert search["properties"]["colors"] == {"type": "array", "maxItems": 10,
                                              "items": {"type": "string", "maxLength": 30}}
    compare = offered["compare_products"]["parameters"]
    assert compare["required"] == ["skus"] and compare["properties"]["skus"]["maxItems"] == 4
    for tool in offered.values():  # nothing a model's JSON Schema dialect would not know
        text = str(tool["parameters"])
        assert "$ref" not in text and "anyOf" not in text and "'default': None" not in text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"name": "search_catalog", "arguments": {"query": " saree ", "category": "Saree", "colors": "Red",
                                                  "max_price": "9000", "brand": None}},
         ("search_catalog", {"query": "saree", "filters": {"category": "saree", "colors": ["red"], "max_price": 9000}})),
        ({"name": "check_stock", "arguments": {"skus": ["SS-1", "NOPE"], "size": " m "}},
         ("check_stock", {"skus": ["SS-1"], "size": "m"})),
        ({"name": "compare_products", "arguments": {"skus": ["SS-1", "SS-2", "SS-1"]}},
         ("compare_products", {"skus": ["SS-1", "SS-2"]})),
        ({"name": "search_documents", "arguments": {"query": "return policy", "extra": 1}},
         ("search_documents", {"query": "return policy"})),
    ],
)
def test_well_formed_calls_run(raw: dict, expected: tuple) -> None:
    [call] = calling.checked([raw], KNOWN)
    assert (call.name, call.args()) == expected


@pytest.mark.parametrize(
    "raw",
    [
        {"name": "launch_rockets", "arguments": {"count": 3}},
        {"name": "search_catalog", "arguments": {"query": "saree", "max_price": float("nan")}},
        {"name": "search_catalog", "arguments": {"query": "saree", "max_price": float("inf")}},
        {"name": "search_catalog", "arguments": {"query": "saree", "min_price": -5}},
        {"name": "search_catalog", "arguments": {"query": "red \ud800 saree"}},
        {"name": "search_catalog", "arguments": {"query": ["saree"]}},
        {"name": "search_catalog", "arguments": {}},
        {"name": "compare_products", "arguments": {"skus": ["SS-1", 7]}},
        {"name": "compare_products", "arguments": {"skus": ["SS-1"]}},  # one is no comparison
        {"name": "compare_products", "arguments": {"skus": ["SS-1", "SS-2", "SS-3", "SS-1", "SS-2"]}},
        {"name": "check_stock", "arguments": {"skus": "SS-1"}},
        {"name": "search_documents", "arguments": {"query": "   "}},
        {"name": "search_documents", "arguments": "not an object"},
    ],
)
def test_malformed_calls_are_dropped_and_logged(raw: dict, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="storestream.agent"):
        assert calling.checked([raw], KNOWN) == []
    assert "dropped a tool call from the model" in caplog.text


def test_at_most_four_calls() -> None:
    call = {"name": "search_documents", "arguments": {"query": "returns"}}
    assert len(calling.checked([call] * 6, KNOWN)) == calling.MAX_CALLS
