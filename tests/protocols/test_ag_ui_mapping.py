"""The AG-UI mapping as plain functions of our events (no server): event order, ids, the tool
calls and their results, the state the agent remembers, the run's end."""

from __future__ import annotations

import json
from typing import Any

from app.protocols.ag_ui import RUN_KEY, THREAD_KEY, AgUiFrames
from app.streams import events as ev
from app.streams.events import Code, Event
from tests.protocols.test_ai_sdk_mapping import agent_turn as ai_sdk_turn

SID = "ab" * 16
CONNECTED = ev.connected(SID, "ag_ui_agent", session_id="s1", conversation_id="c1", message_id="u1",
                         **{THREAD_KEY: "s1", RUN_KEY: "r1"})


def events_of(events: list[Event]) -> list[dict[str, Any]]:
    """Every `data:` event the events become, in order; nothing but `data:` lines."""
    encode = AgUiFrames()
    out: list[dict[str, Any]] = []
    for i, event in enumerate(events, 1):
        frame = encode(event, f"{'0' * 32}-{i}")
        for block in frame.split(b"\n\n")[:-1]:
            assert block.startswith(b"data: ") and b"\n" not in block
            out.append(json.loads(block[6:]))
    return out


def agent_turn() -> list[Event]:
    """The AI SDK mapping's agent turn, started by this route."""
    return [CONNECTED, *ai_sdk_turn()[1:]]


def test_an_agent_turn_becomes_ag_ui_events_in_order() -> None:
    out = events_of(agent_turn())
    assert [e["type"] + (f":{e['name']}" if e["type"] == "CUSTOM" else "") for e in out] == [
        "RUN_STARTED", "CUSTOM:intent",
        "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END",
        "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END",
        "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END",
        "TOOL_CALL_RESULT", "CUSTOM:market_intelligence", "TOOL_CALL_RESULT", "CUSTOM:product_cards",
        "TOOL_CALL_RESULT", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "CUSTOM:audio", "CUSTOM:error",
        "TEXT_MESSAGE_CONTENT", "CUSTOM:suggestions", "TEXT_MESSAGE_END", "STATE_DELTA", "RUN_FINISHED",
    ]
    assert out[0] == {"type": "RUN_STARTED", "threadId": "s1", "runId": "r1"}
    search, market, docs = out[2], out[5], out[8]
    assert search == {"type": "TOOL_CALL_START", "toolCallId": f"call-{SID}-1", "toolCallName": "search_catalog",
                      "parentMessageId": f"calls-{SID}"}
    assert json.loads(out[3]["delta"]) == {"query": "red lehenga"} and out[4]["toolCallId"] == search["toolCallId"]
    assert [market["toolCallName"], docs["toolCallName"]] == ["market_snapshot", "search_documents"]
    assert market["parentMessageId"] == docs["parentMessageId"] == search["parentMessageId"]
    # each result answers its call; the cards by reference, the cards themselves in the CUSTOM event
    assert out[11]["toolCallId"] == market["toolCallId"] and json.loads(out[11]["content"]) == {"median_price": 15000}
    assert out[13]["toolCallId"] == search["toolCallId"] and out[13]["messageId"] == f"result-call-{SID}-1"
    assert json.loads(out[13]["content"]) == {"total": 7, "skus": ["A1", "B2"]} and out[13]["role"] == "tool"
    assert out[14]["value"]["products"][0]["sku"] == "A1" and "type" not in out[14]["value"]
    # the documents' search found nothing to show: answered empty when the answer starts
    assert out[15]["toolCallId"] == docs["toolCallId"] and json.loads(out[15]["content"]) == {}
    text = [e for e in out if e["type"].startswith("TEXT_MESSAGE")]
    assert {e["messageId"] for e in text} == {f"msg-{SID}"} and text[0]["role"] == "assistant"
    assert "".join(e.get("delta", "") for e in text) == "Red lehengas."
    assert out[18]["value"]["chunk"] == "AAAA" and out[19]["value"]["code"] == "TTS_UNAVAILABLE"
    # what the agent remembers: JSON Patch adds
    assert all(op["op"] == "add" for op in out[-2]["delta"])
    assert {op["path"]: op["value"] for op in out[-2]["delta"]} == {
        "/sessionId": "s1", "/conversationId": "c1", "/intent": "browse_search",
        "/search": {"query": "red lehenga", "filters": {}}, "/shown": ["A1", "B2"]}
    assert out[-1] == {"type": "RUN_FINISHED", "threadId": "s1", "runId": "r1", "outcome": {"type": "success"},
                       "result": {"sessionId": "s1", "conversationId": "c1", "storedMessageId": "m1",
                                  "intent": "browse_search", "tools": ["search_catalog"]}}


def test_a_fatal_error_is_run_error_and_nothing_follows() -> None:
    out = events_of([CONNECTED, ev.progress("tool", "Searching", tool="search_catalog", args={}),
                     ev.text("Half", "Half"), ev.error(Code.UPSTREAM_UNAVAILABLE, "the model failed", retryable=True),
                     ev.close()])
    assert [e["type"] for e in out] == ["RUN_STARTED", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END",
                                        "TOOL_CALL_RESULT", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT",
                                        "TEXT_MESSAGE_END", "RUN_ERROR"]
    assert out[-1] == {"type": "RUN_ERROR", "message": "the model failed", "code": "UPSTREAM_UNAVAILABLE"}


def test_a_stream_closed_without_complete_still_finishes_the_run() -> None:
    out = events_of([CONNECTED, ev.progress("retrieval", "Reading"), ev.text("Hi", "Hi"), ev.close()])
    assert [e["type"] for e in out] == ["RUN_STARTED", "CUSTOM", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT",
                                        "TEXT_MESSAGE_END", "RUN_FINISHED"]
    assert out[1]["name"] == "progress" and out[-1]["runId"] == "r1"


def test_ids_differ_between_runs() -> None:
    other = ev.connected("ef" * 16, "ag_ui_agent", **{THREAD_KEY: "s1", RUN_KEY: "r2"})
    first = events_of([CONNECTED, ev.text("a", "a"), ev.close()])
    second = events_of([other, ev.text("a", "a"), ev.close()])
    assert first[1]["messageId"] != second[1]["messageId"] and second[0]["runId"] == "r2"
