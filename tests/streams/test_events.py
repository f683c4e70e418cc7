"""Typed constructors produce exactly the documented shapes."""

from __future__ import annotations

import re

import pytest

from app.streams import events as ev
from app.streams.schema import EVENT_SCHEMAS


def _conforms(data: dict, schema: dict) -> None:
    for key in schema.get("required", []):
        assert key in data, key
    props = schema.get("properties", {})
    if schema.get("additionalProperties") is False:
        assert set(data) <= set(props), set(data) - set(props)
    types = {"string": str, "integer": int, "number": (int, float), "boolean": bool}
    for key, rule in props.items():
        if key not in data:
            continue
        if "type" in rule:
            assert isinstance(data[key], types[rule["type"]]), key
        if "const" in rule:
            assert data[key] == rule["const"]
        if "enum" in rule:
            assert data[key] in rule["enum"]
        if "pattern" in rule:
            assert re.match(rule["pattern"], data[key])


SAMPLES = [
    ev.connected("abc", "search", query="lehenga"),
    ev.progress("text_search", "Searching", count=3, percent=12.345),
    ev.results("product_cards", products=[], stage="text"),
    ev.text("Hi", "Hi"),
    ev.audio("AAAA", 0, "Hi.", lang="en"),
    ev.complete(duration_ms=12.34, total=3),
    ev.error("DB_UNAVAILABLE", "down", retryable=True),
    ev.close(),
]


@pytest.mark.parametrize("event", SAMPLES, ids=[e.type for e in SAMPLES])
def test_constructors_match_the_published_schema(event: ev.Event) -> None:
    _conforms(event.data, EVENT_SCHEMAS[event.type])


def test_exactly_eight_types_documented() -> None:
    assert set(EVENT_SCHEMAS) == set(ev.EVENT_TYPES) and len(ev.EVENT_TYPES) == 8
    assert {e.type for e in SAMPLES} == set(ev.EVENT_TYPES)


def test_unknown_results_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown results type"):
        ev.results("banana")


def test_error_carries_both_message_fields_and_utc_timestamp() -> None:
    data = ev.error("STREAM_TIMEOUT", "too slow").data
    assert data["message"] == data["error"] == "too slow"
    assert data["fatal"] is True and data["retryable"] is False
    assert data["timestamp"].endswith("Z")


def test_progress_rounds_percent() -> None:
    assert ev.progress("x", "y", percent=33.333).data["percent"] == 33.3
