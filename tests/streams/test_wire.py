"""SSE framing rules (WHATWG HTML, server-sent events)."""

from __future__ import annotations

import json

from app.streams import events as ev
from app.streams import wire


def test_id_and_event_lose_cr_lf_and_nul() -> None:
    frame = wire.encode(ev.Event("progress", {"step": "a"}), "ab\r\ncd\x00-1").decode()
    assert frame.startswith("id: abcd-1\nevent: progress\ndata: ")
    assert frame.endswith("\n\n")
    hostile = wire.encode(ev.Event("text\nevent: close", {}), "x-1").decode()  # type: ignore[arg-type]
    assert [line for line in hostile.split("\n") if line.startswith("event:")] == ["event: textevent: close"]


def test_data_is_one_json_line_even_with_line_breaks() -> None:
    token = "a\nb\r\nc\rd\u2028e"
    frame = wire.encode(ev.text(token, token), "s-2").decode()
    data = [line for line in frame.split("\n") if line.startswith("data: ")]
    assert len(data) == 1
    assert json.loads(data[0][6:]) == {"token": token, "fullText": token}


def test_empty_payload_still_has_a_data_line() -> None:
    frame = wire.encode(ev.Event("close", {}), "s-3").decode()
    assert "\ndata: {}\n\n" in frame


def test_retry_rides_on_the_frame_when_asked() -> None:
    frame = wire.encode(ev.connected("s", "search"), "s-1", retry_ms=2500).decode()
    assert "\nretry: 2500\n" in frame


def test_data_lines_split_on_every_line_break() -> None:
    assert wire.data_lines("a\r\nb\rc\nd") == ["a", "b", "c", "d"]
    assert wire.data_lines("plain") == ["plain"]


def test_utf8_on_the_wire() -> None:
    frame = wire.encode(ev.text("سلام 👗", "سلام 👗"), "s-1")
    assert "سلام 👗".encode() in frame
