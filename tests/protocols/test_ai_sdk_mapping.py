"""The Vercel AI SDK UI-message-stream mapping as plain functions of our events (no server)."""

from __future__ import annotations

import json

from app.protocols.ai_sdk_ui import DONE, UIMessageFrames
from app.streams import events as ev
from app.streams.events import Code, Event

SID = "ab" * 16
CONNECTED = ev.connected(SID, "ai_sdk_chat", session_id="s1", conversation_id="c1", message_id="u1")


def parts_of(events: list[Event]) -> list[dict]:
    """Every `data:` part the events become, in order; `[DONE]` as the string."""
    encode = UIMessageFrames()
    out: list[dict] = []
    for i, event in enumerate(events, 1):
        frame = encode(event, f"{'0' * 32}-{i}")
        for block in frame.split(b"\n\n")[:-1]:
            assert block.startswith(b"data: ") and b"\n" not in block
            out.append("[DONE]" if block + b"\n\n" == DONE else json.loads(block[6:]))
    return out


def agent_turn() -> list[Event]:
    return [
        CONNECTED,
        ev.results("intent", intent="browse_search", confidence=0.9, slots={}, classified_as="browse_search",
                   source="rule", clarify=False, filters={}),
        ev.progress("tool", "Searching the catalog", tool="search_catalog", args={"query": "red lehenga"}),
        ev.progress("tool", "Reading prices", tool="market_snapshot", args={"query": "red lehenga"}),
        ev.progress("tool", "Looking through the store's documents", tool="search_documents", args={"query": "x"}),
        ev.results("market_intelligence", median_price=15000),
        ev.results("product_cards", products=[{"sku": "A1", "name": "Red"}, {"sku": "B2", "name": "Ruby"}],
                   total=7, relaxed=[]),
        ev.text("Red ", "Red "),
        ev.audio("AAAA", 1, "Red"),
        ev.error(Code.TTS_UNAVAILABLE, "speech failed", retryable=False, fatal=False),
        ev.text("lehengas.", "Red lehengas."),
        ev.results("suggestions", suggestions=["cheaper", "in blue"]),
        ev.complete(session_id="s1", conversation_id="c1", message_id="m1", intent="browse_search",
                    tools=["search_catalog"]),
        ev.close(),
    ]


def test_an_agent_turn_becomes_ui_message_chunks_in_order() -> None:
    parts = parts_of(agent_turn())
    assert [p if p == "[DONE]" else p["type"] for p in parts] == [
        "start", "data-intent",
        "tool-input-available", "tool-input-available", "tool-input-available",
        "tool-output-available", "data-market_intelligence", "tool-output-available", "data-product_cards",
        "tool-output-available", "text-start", "text-delta", "data-audio", "data-error", "text-delta", "text-end",
        "data-suggestions", "finish", "[DONE]",
    ]
    start = parts[0]
    # the stream's public id and the id of this event: what the stop route takes
    assert start == {"type": "start", "messageId": f"msg-{SID}",
                     "messageMetadata": {"sessionId": "s1", "conversationId": "c1", "streamId": SID,
                                         "eventId": f"{'0' * 32}-1"}}
    calls = parts[2:5]
    assert [(c["toolCallId"], c["toolName"]) for c in calls] == [
        ("call-1", "search_catalog"), ("call-2", "market_snapshot"), ("call-3", "search_documents")]
    assert calls[0]["input"] == {"query": "red lehenga"}
    # each tool's output is what it found; the documents' (used by the answer only) is empty
    assert parts[5] == {"type": "tool-output-available", "toolCallId": "call-2", "output": {"median_price": 15000}}
    assert parts[7]["toolCallId"] == "call-1" and parts[7]["output"] == {"total": 7, "skus": ["A1", "B2"]}
    assert parts[9] == {"type": "tool-output-available", "toolCallId": "call-3", "output": {}}
    cards = parts[8]
    assert cards["id"] == "product_cards" and cards["data"]["total"] == 7 and len(cards["data"]["products"]) == 2
    assert parts[10] == {"type": "text-start", "id": "text-1"}
    assert [p["delta"] for p in parts if p != "[DONE]" and p["type"] == "text-delta"] == ["Red ", "lehengas."]
    assert parts[12]["transient"] is True and parts[12]["data"]["chunk"] == "AAAA"
    assert parts[13]["transient"] is True and parts[13]["data"]["code"] == Code.TTS_UNAVAILABLE
    assert parts[15] == {"type": "text-end", "id": "text-1"}
    assert parts[16] == {"type": "data-suggestions", "id": "suggestions", "data": {"suggestions": ["cheaper", "in blue"]}}
    assert parts[17] == {"type": "finish", "finishReason": "stop", "messageMetadata": {
        "sessionId": "s1", "conversationId": "c1", "storedMessageId": "m1", "intent": "browse_search",
        "tools": ["search_catalog"]}}


def test_sources_become_source_documents_and_progress_a_transient_part() -> None:
    parts = parts_of([
        CONNECTED,
        ev.progress("retrieval", "Looking through the catalog", query="returns"),
        ev.results("sources", sources=[{"file_id": "f1", "file_name": "policy.pdf", "chunk_index": 2, "page": 3,
                                        "score": 0.8, "text": "Returns within 14 days"}]),
        ev.text("Yes.", "Yes."),
        ev.complete(),
        ev.close(),
    ])
    assert parts[1] == {"type": "data-progress", "transient": True,
                        "data": {"step": "retrieval", "message": "Looking through the catalog", "query": "returns"}}
    assert parts[2] == {"type": "source-document", "sourceId": "f1:2", "mediaType": "application/pdf",
                        "title": "policy.pdf", "filename": "policy.pdf", "providerMetadata": {"storestream": {
                            "file_id": "f1", "chunk_index": 2, "page": 3, "score": 0.8,
                            "text": "Returns within 14 days"}}}
    assert parts[-2]["type"] == "finish" and parts[-1] == "[DONE]"


def test_a_fatal_error_is_an_error_part_then_finish_and_done() -> None:
    parts = parts_of([CONNECTED, ev.progress("tool", "Searching", tool="search_catalog", args={}),
                      ev.text("Re", "Re"),
                      ev.error(Code.STREAM_TIMEOUT, "The stream took longer than 1 ms", retryable=True), ev.close()])
    assert [p if p == "[DONE]" else p["type"] for p in parts] == [
        "start", "tool-input-available", "tool-output-available", "text-start", "text-delta", "text-end",
        "error", "finish", "[DONE]"]
    assert parts[6] == {"type": "error", "errorText": "STREAM_TIMEOUT: The stream took longer than 1 ms"}
    assert parts[7] == {"type": "finish", "finishReason": "error"}


def test_text_after_other_parts_opens_a_new_text_part() -> None:
    parts = parts_of([CONNECTED, ev.text("a", "a"), ev.results("suggestions", suggestions=[]), ev.text("b", "ab"),
                      ev.close()])
    assert [(p["type"], p.get("id")) for p in parts[1:-2]] == [
        ("text-start", "text-1"), ("text-delta", "text-1"), ("text-end", "text-1"), ("data-suggestions", "suggestions"),
        ("text-start", "text-2"), ("text-delta", "text-2"), ("text-end", "text-2")]
    assert parts[-2] == {"type": "finish", "finishReason": "other"}
