"""The OpenAI chat-completions mapping as plain functions of our events (no server)."""

from __future__ import annotations

import json

from app.protocols.openai_chat import DONE, ChunkFrames, completion
from app.streams import events as ev
from app.streams.events import Code, Event

CONNECTED = ev.connected("ab" * 16, "openai_chat", model="storestream-agent", created=1700000000, session_id="s1")


def frames(events: list[Event]) -> list[bytes]:
    encode = ChunkFrames()
    return [encode(e, f"{'0' * 32}-{i}", retry_ms=3000 if i == 1 else None) for i, e in enumerate(events, 1)]


def data(frame: bytes) -> dict:
    assert frame.startswith(b"data: ") and frame.endswith(b"\n\n") and frame.count(b"\n") == 2
    return json.loads(frame[6:])


def answer_events() -> list[Event]:
    return [
        CONNECTED,
        ev.progress("tool", "Searching the catalog", tool="search_catalog"),
        ev.results("suggestions", suggestions=["cheaper", "in blue"]),
        ev.text("Red ", "Red "),
        ev.audio("AAAA", 1, "Red"),
        ev.error(Code.TTS_UNAVAILABLE, "speech failed", retryable=False, fatal=False),
        ev.text("lehengas.", "Red lehengas."),
        ev.complete(duration_ms=12.5, session_id="s1", conversation_id="c1", message_id="m1", intent="browse_search"),
        ev.close(),
    ]


def test_each_event_becomes_its_chunk_or_nothing() -> None:
    out = frames(answer_events())
    assert out[1] == out[4] == out[5] == b""  # progress, audio, a non-fatal error
    assert out[-1] == DONE
    first, results, token, last = data(out[0]), data(out[2]), data(out[3]), data(out[7])
    for chunk in (first, results, token, last):
        assert chunk["object"] == "chat.completion.chunk" and chunk["id"] == f"chatcmpl-{'ab' * 16}"
        assert chunk["model"] == "storestream-agent" and chunk["created"] == 1700000000
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert results["choices"][0]["delta"] == {} and results["storestream"]["results"]["type"] == "suggestions"
    assert token["choices"][0] == {"index": 0, "delta": {"content": "Red "}, "logprobs": None, "finish_reason": None}
    assert last["choices"][0]["finish_reason"] == "stop" and last["choices"][0]["delta"] == {}
    assert last["storestream"] == {"session_id": "s1", "conversation_id": "c1", "message_id": "m1",
                                   "intent": "browse_search"}


def test_a_fatal_error_ends_the_chunks_without_done() -> None:
    out = frames([CONNECTED, ev.text("Re", "Re"),
                  ev.error(Code.STREAM_TIMEOUT, "The stream took longer than 1 ms", retryable=True), ev.close()])
    assert data(out[2]) == {"error": {"message": "The stream took longer than 1 ms", "type": "server_error",
                                      "code": "STREAM_TIMEOUT", "param": None}}
    assert out[3] == b""


def test_the_fold_is_one_completion() -> None:
    status, doc = completion(answer_events())
    assert status == 200 and doc["object"] == "chat.completion" and doc["id"] == f"chatcmpl-{'ab' * 16}"
    assert doc["choices"][0]["message"] == {"role": "assistant", "content": "Red lehengas.", "refusal": None}
    assert doc["choices"][0]["finish_reason"] == "stop"
    assert doc["storestream"]["results"] == {"suggestions": {"suggestions": ["cheaper", "in blue"]}}
    assert doc["storestream"]["session_id"] == "s1"


def test_the_fold_of_a_failure_is_an_error_body_with_the_twins_status() -> None:
    status, doc = completion([CONNECTED, ev.error(Code.UPSTREAM_UNAVAILABLE, "the model failed", retryable=True),
                              ev.close()])
    assert status == 502 and doc["error"]["code"] == "UPSTREAM_UNAVAILABLE" and doc["error"]["type"] == "server_error"


def test_text_json_cannot_hold_is_still_sent() -> None:
    out = frames([CONNECTED, ev.text("\ud800 and line\nbreak", "\ud800 and line\nbreak")])
    assert data(out[1])["choices"][0]["delta"]["content"] == "\ud800 and line\nbreak"
