"""The constructors of `app/streams/events.py` build exactly what the models of
`app/streams/schema.py` declare (the constructors build dicts for speed; the models are the
declaration, so this is what keeps the two equal), and what the JSON Schemas published from
those models (`/openapi.json`, docs/events.md) accept, checked by `jsonschema` the way a
client in another language would check them."""

from __future__ import annotations

import json

import jsonschema
import pydantic
import pytest

from app.contracts.openapi import json_schema
from app.streams import events as ev
from app.streams.schema import EVENT_MODELS, RESULT_BY_TYPE, validate_payload

CARD = {"sku": "SS-1", "title": "Red saree", "brand": "B", "category": "saree", "price": 1499, "currency": "INR",
        "colors": ["red"], "sizes": ["Free Size"], "rating": 4.5, "in_stock": True, "image_url": "/x.svg",
        "attributes": {"fabric": "silk", "pieces": 2, "handmade": True}, "score": 0.5, "text_score": 3.2,
        "vector_score": None}
PICK = {"sku": "SS-1", "title": "Red saree", "brand": "B", "price": 1499, "currency": "INR", "rating": 4.5,
        "in_stock": True, "image_url": "/x.svg"}

SAMPLES = [
    ev.connected("a" * 32, "search", query="lehenga"),
    ev.connected("b" * 32, "chat", conversation_id="c1", message_id="m1", language="fa", dir="rtl"),
    ev.progress("text_search", "Searching", count=3, percent=12.345),
    ev.progress("tool", "Searching the catalog", tool="search_catalog", args={"query": "saree", "filters": {}}),
    ev.results("product_cards", products=[CARD], total=1, stage="final",
               facets={"price": [{"value": "₹1,000 – ₹5,000", "min": 1000, "max": 5000, "count": 1}],
                       "color": [{"value": "red", "count": 1}]},
               query={"q": "red saree", "residual": "", "filters": {"colors": ["red"]}, "sort": "relevance"}),
    ev.results("product_cards", products=[CARD], total=1, path="text", score_type="text"),
    ev.results("suggestions", suggestions=["Show me cheaper ones"]),
    ev.results("sources", sources=[{"file_id": "f", "file_name": "a.md", "chunk_index": 0, "page": None,
                                    "start": 0, "end": 10, "score": 0.61, "text": "Returns in 30 days."}]),
    ev.results("intent", intent="browse_search", confidence=0.9, slots={"colors": ["red"]},
               classified_as="browse_search", source="rule", clarify=False, filters={"colors": ["red"]}),
    ev.results("market_intelligence", filters={"category": "saree"}, matching=2, in_stock=1, currency="INR",
               price={"min": 1, "p25": 2, "median": 3, "p75": 4, "max": 5},
               top_brands=[{"brand": "B", "count": 2}], best_rated=[PICK],
               budget={"min": None, "max": 9000, "within": 2, "in_stock_within": 1, "share_within": 1.0,
                       "position": "above_all"},
               closest=[{**PICK, "over_budget_by": 100}]),
    ev.results("market_intelligence", filters={}, matching=0, in_stock=0, currency="INR", price=None,
               top_brands=[], best_rated=[]),
    ev.results("comparison", products=[{"sku": "A", "title": "a", "brand": None, "price": 10, "rating": None,
                                        "in_stock": True, "sizes": [], "colors": [], "fabric": None,
                                        "occasion": "wedding"}],
               cheaper={"sku": "A", "by": 300}, higher_rated="A"),
    ev.results("stock", products=[{"sku": "A", "title": "a", "in_stock": True, "sizes": ["M"], "size": "M",
                                   "size_listed": True}]),
    ev.results("chunks", file_id="f" * 32, file_name="a.md", count=1, tokens=10,
               preview=[{"index": 0, "page": None, "tokens": 10, "text": "x"}], duplicate=False, embedded=True,
               pages=3, skipped_pages=[2]),
    ev.text("Hi", "Hi"),
    ev.audio("AAAA", 1, "Hi.", lang="en", engine="espeak-ng"),
    ev.complete(duration_ms=12.34, total=3),
    ev.complete(message_id="m", conversation_id="c", metadata={"tokens": 3}),
    ev.error("DB_UNAVAILABLE", "down", retryable=True),
    ev.error("TTS_UNAVAILABLE", "no speech", fatal=False),
    ev.close(),
]


@pytest.mark.parametrize("event", SAMPLES, ids=[f"{e.type}:{e.data.get('type', e.data.get('step', ''))}" for e in SAMPLES])
def test_constructors_build_what_the_models_declare(event: ev.Event) -> None:
    validate_payload(event.type, event.data)


def published(kind: str) -> jsonschema.protocols.Validator:
    """A validator of the JSON Schema clients are given for `kind` (OpenAPI 3.1: 2020-12)."""
    schema = json_schema(EVENT_MODELS[kind])
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("event", SAMPLES, ids=[f"{e.type}:{e.data.get('type', e.data.get('step', ''))}" for e in SAMPLES])
def test_constructors_build_what_the_published_schemas_accept(event: ev.Event) -> None:
    published(event.type).validate(json.loads(json.dumps(event.data)))  # as it travels: JSON


def test_every_type_and_results_type_is_sampled() -> None:
    assert set(EVENT_MODELS) == set(ev.EVENT_TYPES) and len(ev.EVENT_TYPES) == 8
    assert {e.type for e in SAMPLES} == set(ev.EVENT_TYPES)
    assert {e.data["type"] for e in SAMPLES if e.type == "results"} == set(RESULT_BY_TYPE) == ev.RESULT_TYPES


REFUSED_NAN = {"type": "product_cards", "products": [{**CARD, "price": float("nan")}], "total": 1}


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("text", {"token": "a", "fullText": "a", "extra": 1}),  # text is closed
        ("text", {"token": 1, "fullText": "1"}),
        ("close", {"message": "bye"}),
        ("error", {"message": "x", "error": "x", "code": "lower", "timestamp": "t", "retryable": True, "fatal": True}),
        ("results", {"type": "product_cards", "products": [{"sku": "A"}], "total": 1}),  # a card needs a title
        ("results", {"type": "banana"}),
        ("progress", {"step": "x", "message": "y", "count": None}),  # absent, never null
        ("results", REFUSED_NAN),
    ],
)
def test_the_models_refuse_what_is_not_sent(kind: str, data: dict) -> None:
    with pytest.raises(pydantic.ValidationError):
        validate_payload(kind, data)
    if data is not REFUSED_NAN:  # NaN is no JSON value: the wire encoder, not a schema, refuses it
        with pytest.raises(jsonschema.ValidationError):
            published(kind).validate(data)


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


def test_the_payload_tables_of_docs_events_md_are_the_models() -> None:
    from app.contracts import docs

    assert docs.main(["--check"]) == 0, "run: .venv/bin/python -m app.contracts.docs"
