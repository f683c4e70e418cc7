"""Server-Sent Events wire format (WHATWG HTML, "server-sent events").

One event is `id:`, `event:`, optionally `retry:`, then `data:` lines and a blank line, UTF-8.
Payloads are JSON objects, so in practice one `data:` line; the splitting below keeps the
format right for any text anyway.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any, Protocol

from app.streams.events import EVENT_TYPES, Event

log = logging.getLogger("storestream.streams")

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
# `allow_nan=False`: NaN and Infinity are not JSON (a browser's JSON.parse refuses them), so
# they take the careful path below instead of reaching a client.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)
_ASCII_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=str, allow_nan=False)
_MAX_DEPTH = 64  # deeper payloads are cut (with null) on the careful path


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


def data_frame(payload: dict[str, Any]) -> bytes:
    """A frame of one `data:` line and nothing else (the protocols that name no events and send
    no ids, app/protocols/). Never raises, like `encode`: what JSON or UTF-8 cannot hold (a lone
    surrogate, NaN) takes the same careful path (`\\u` escapes, null)."""
    try:
        return f"data: {_JSON.encode(payload)}\n\n".encode()
    except (UnicodeEncodeError, ValueError, TypeError, RecursionError):
        return f"data: {_ASCII_JSON.encode(json_safe(payload))}\n\n".encode()


class Encoder(Protocol):
    """An event as the bytes of its frame: `encode` below, or a protocol adapter's
    (app/protocols/), which may write nothing for an event its protocol has no place for."""

    def __call__(self, event: Event, event_id: str, *, retry_ms: int | None = None) -> bytes: ...


def encode(event: Event, event_id: str, *, retry_ms: int | None = None) -> bytes:
    """One frame. Never raises: a frame that cannot be written as it is would end the stream
    after its headers with no `error` and no `close`. The common case costs what it always
    did (the `try` is free until something fails); a payload holding a lone surrogate, NaN or
    Infinity, a value that refers to itself or is nested past any sense is written by
    `_careful` instead (surrogates as JSON escapes, non-finite numbers and loops as null)."""
    kind = event.type if event.type in _KNOWN_TYPES else clean_field(event.type)
    head = f"id: {clean_field(event_id)}\nevent: {kind}\n"
    if retry_ms is not None:
        head += f"retry: {int(retry_ms)}\n"
    try:
        payload = _JSON.encode(event.data or {})
        if "\n" in payload or "\r" in payload:  # never for JSON; kept for any text payload
            return (head + "".join(f"data: {line}\n" for line in data_lines(payload)) + "\n").encode()
        return f"{head}data: {payload}\n\n".encode()
    except (UnicodeEncodeError, ValueError, TypeError, RecursionError) as exc:
        return _careful(head, event, exc)


def _careful(head: str, event: Event, exc: BaseException) -> bytes:
    """The frame for a payload the fast path could not write (see `encode`)."""
    log.warning("event %r could not be encoded as it is (%s); sent with substitutions", event.type,
                type(exc).__name__)
    try:
        payload = _ASCII_JSON.encode(json_safe(event.data or {}))
    except Exception:  # noqa: BLE001 - json_safe leaves nothing unencodable; belt and braces
        payload = '{"message":"this event could not be encoded"}'
    return f"{head}data: {payload}\n\n".encode("utf-8", "replace")


def json_safe(value: Any, _depth: int = 0, _seen: frozenset[int] = frozenset()) -> Any:
    """`value` with what JSON cannot hold replaced: NaN and Infinity by None, keys that are
    not strings by their text, a value that contains itself (or is nested past 64 levels) by
    None, anything else unknown by its text. Strings are kept (a lone surrogate is written as
    a JSON escape by an ASCII encoder)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if _depth >= _MAX_DEPTH or id(value) in _seen:
        return None
    if isinstance(value, dict):
        seen = _seen | {id(value)}
        return {(k if isinstance(k, str) else str(k)): json_safe(v, _depth + 1, seen) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        seen = _seen | {id(value)}
        return [json_safe(v, _depth + 1, seen) for v in value]
    return str(value)
