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


# -- encoding never raises: a frame that cannot be written as it is would otherwise kill the
# stream after its headers (a lone surrogate in the Aza query's `connected` once did: the
# response hung with no `error` and no `close`).


def _data(frame: bytes) -> object:
    text = frame.decode("utf-8")  # always valid UTF-8 on the wire
    [line] = [line for line in text.split("\n") if line.startswith("data: ")]
    return json.loads(line[6:])


def test_a_lone_surrogate_is_sent_escaped() -> None:
    frame = wire.encode(ev.connected("s", "aza", query="red \ud800 kurta"), "s-1", retry_ms=3000)
    assert b"\\ud800" in frame and b"retry: 3000\n" in frame
    assert _data(frame)["query"] == "red \ud800 kurta"  # JSON carries it; a JS string can too


def test_non_finite_numbers_are_sent_as_null() -> None:
    frame = wire.encode(ev.results("product_cards", products=[{"price": float("nan")}], total=float("inf")), "s-2")
    assert b"NaN" not in frame and b"Infinity" not in frame
    assert _data(frame) == {"type": "product_cards", "products": [{"price": None}], "total": None}


def test_unencodable_payloads_still_make_a_frame() -> None:
    loop: dict = {"a": 1}
    loop["self"] = loop
    frame = wire.encode(ev.progress("odd", "a loop", data=loop, keys={(1, 2): "tuple key"}), "s-3")
    data = _data(frame)
    assert data["step"] == "odd" and data["data"]["a"] == 1 and data["data"]["self"] is None
    assert data["keys"] == {"(1, 2)": "tuple key"}
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    assert _data(wire.encode(ev.progress("deep", "nested", data=deep), "s-4"))["step"] == "deep"


def test_the_hot_path_frame_is_unchanged() -> None:
    assert wire.encode(ev.text("tok", "tok"), "t-2") == b'id: t-2\nevent: text\ndata: {"token":"tok","fullText":"tok"}\n\n'
