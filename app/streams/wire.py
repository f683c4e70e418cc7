"""Server-Sent Events wire format (WHATWG HTML, "server-sent events").

One event is `id:`, `event:`, optionally `retry:`, then `data:` lines and a blank line, UTF-8.
Payloads are JSON objects, so in practice one `data:` line; the splitting below keeps the
format right for any text anyway.
"""

from __future__ import annotations

import json
import re

from app.streams.events import EVENT_TYPES, Event

# Field values of `id` and `event` may not hold CR, LF (they end the field) or NUL
# (clients ignore an id containing NUL).
_FIELD_UNSAFE = re.compile(r"[\r\n\x00]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

# A comment line WITHOUT the blank line that would end an event: every client ignores it
# (browsers' EventSource, @microsoft/fetch-event-source, httpx-sse). `: ping\n\n` is seen as
# an empty event by the last two (an empty `message` with the previous id repeated, or
# `onmessage` with empty data), which crashes a consumer that parses every event's data.
# Frames always end with their own blank line, so the comment never joins a real event.
KEEPALIVE = b": ping\n"

HEADERS: list[tuple[bytes, bytes]] = [
    # No parameters: SSE is UTF-8 by definition, and fetch-event-source's documented `onopen`
    # compares the type with === (with "; charset=utf-8" it reopens forever).
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
]
# Never compressed (a gzip layer buffers the stream) and no `Connection` header (hop-by-hop,
# illegal in HTTP/2): the app adds no compression middleware, and tests check both.


_KNOWN_TYPES = frozenset(EVENT_TYPES)
# One encoder, built once: `json.dumps` with non-default options builds a new one per call.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def clean_field(value: str) -> str:
    if "\r" in value or "\n" in value or "\x00" in value:
        return _FIELD_UNSAFE.sub("", value)
    return value


def data_lines(payload: str) -> list[str]:
    if "\n" in payload or "\r" in payload:
        return _LINE_BREAK.split(payload)
    return [payload]


def dumps(data: dict) -> str:
    return _JSON.encode(data)


def encode(event: Event, event_id: str, *, retry_ms: int | None = None) -> bytes:
    kind = event.type if event.type in _KNOWN_TYPES else clean_field(event.type)
    head = f"id: {clean_field(event_id)}\nevent: {kind}\n"
    if retry_ms is not None:
        head += f"retry: {int(retry_ms)}\n"
    payload = _JSON.encode(event.data or {})
    if "\n" in payload or "\r" in payload:  # never for JSON; kept for any text payload
        return (head + "".join(f"data: {line}\n" for line in data_lines(payload)) + "\n").encode()
    return f"{head}data: {payload}\n\n".encode()
