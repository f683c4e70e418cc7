"""The event vocabulary: exactly eight event types, each built by one constructor.

Producers (the endpoints' async generators) build events only through these functions. What
each payload holds is declared once, as a model, in `app/streams/schema.py` (OpenAPI and the
tables of docs/events.md come from there); these build the same payloads as plain dicts,
because an event is built for every token of an answer (tests/streams/test_events.py checks
every constructor's output against its model). The engine adds ids, `connected`, the closing
`complete`/`close` and every `error` caused by the engine itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from app.streams.schema import RESULT_BY_TYPE

EventType = Literal[
    "connected", "progress", "results", "text", "audio", "complete", "error", "close"
]
EVENT_TYPES: Final = (
    "connected", "progress", "results", "text", "audio", "complete", "error", "close"
)
RESULT_TYPES: Final = frozenset(RESULT_BY_TYPE)  # declared by the result models


class Code:
    """Stable upper-case error codes. Clients branch on these; never rename one."""

    DB_UNAVAILABLE: Final = "DB_UNAVAILABLE"
    STREAM_TIMEOUT: Final = "STREAM_TIMEOUT"
    STREAM_EXPIRED: Final = "STREAM_EXPIRED"
    STREAM_INTERRUPTED: Final = "STREAM_INTERRUPTED"
    STREAM_STOPPED: Final = "STREAM_STOPPED"
    INVALID_PARAMETERS: Final = "INVALID_PARAMETERS"
    INTERNAL_ERROR: Final = "INTERNAL_ERROR"
    UPSTREAM_UNAVAILABLE: Final = "UPSTREAM_UNAVAILABLE"
    TTS_UNAVAILABLE: Final = "TTS_UNAVAILABLE"
    TOO_MANY_STREAMS: Final = "TOO_MANY_STREAMS"
    RATE_LIMITED: Final = "RATE_LIMITED"
    STREAMING_DISABLED: Final = "STREAMING_DISABLED"
    SERVER_SHUTTING_DOWN: Final = "SERVER_SHUTTING_DOWN"


@dataclass(frozen=True, slots=True)
class Event:
    type: EventType
    data: dict[str, Any]


class StreamError(Exception):
    """Raised by a producer to end its stream with a specific, client-safe error.

    `message` is shown to clients, so it must never carry internals.
    """

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def connected(stream_id: str, stream: str, **context: Any) -> Event:
    return Event(
        "connected", {"stream_id": stream_id, "stream": stream, "message": "Stream started", **context}
    )


def progress(
    step: str,
    message: str,
    *,
    count: int | None = None,
    percent: float | None = None,
    **extra: Any,
) -> Event:
    data: dict[str, Any] = {"step": step, "message": message}
    if count is not None:
        data["count"] = count
    if percent is not None:
        data["percent"] = round(float(percent), 1)
    data.update(extra)
    return Event("progress", data)


def results(type: str, **payload: Any) -> Event:  # noqa: A002 - `type` is the wire name
    if type not in RESULT_TYPES:
        raise ValueError(f"unknown results type {type!r}; add it to RESULT_TYPES and docs/events.md")
    return Event("results", {"type": type, **payload})


def text(token: str, full_text: str) -> Event:
    return Event("text", {"token": token, "fullText": full_text})


def audio(chunk_b64: str, seq: int, sentence: str, *, format: str = "mp3", **extra: Any) -> Event:  # noqa: A002
    return Event("audio", {"chunk": chunk_b64, "format": format, "seq": seq, "text": sentence, **extra})


def complete(*, duration_ms: float | None = None, total: int | None = None, **extra: Any) -> Event:
    data: dict[str, Any] = {}
    if total is not None:
        data["total"] = total
    if duration_ms is not None:
        data["duration"] = round(duration_ms, 1)
    data.update(extra)
    return Event("complete", data)


def error(
    code: str, message: str, *, retryable: bool = False, fatal: bool = True, **extra: Any
) -> Event:
    return Event(
        "error",
        {
            "message": message,
            "error": message,
            "code": code,
            "timestamp": _utc_now(),
            "retryable": retryable,
            "fatal": fatal,
            **extra,
        },
    )


def close() -> Event:
    return Event("close", {"message": "Stream ended"})
