"""OpenAI chat completions as a mapping of our events (docs/protocols.md): the same producers,
run by the same engine, written as `chat.completion.chunk`s (streaming) or folded into one
`chat.completion` (not streaming). Plain functions of the events, like app/streams/fold.py:

- `connected` -> the first chunk, `delta: {role: "assistant", content: ""}`;
- `text` -> a chunk whose `delta.content` is the token;
- `results` -> a chunk with an empty delta and the payload under `storestream.results`
  (chat completions has no field for product cards, sources or suggestions; OpenAI's
  clients keep fields they do not know, and ignore them);
- `complete` -> the last chunk: `finish_reason: "stop"`, our ids under `storestream`;
- a fatal `error` -> `data: {"error": {message, type, code, param}}` and the stream ends
  there (OpenAI's clients raise it as `APIError`), no `[DONE]`;
- `close` -> `data: [DONE]`; `progress`, `audio` and non-fatal errors: nothing.

The chunks carry no `id:` or `event:` lines (OpenAI's streams have none), so they cannot be
resumed; the engine still keeps them like any stream's frames.
"""

from __future__ import annotations

from typing import Any

from app.streams.events import Event
from app.streams.fold import STATUS_BY_CODE
from app.streams.wire import data_frame

DONE = b"data: [DONE]\n\n"
NOTHING = b""

# Our ids a client may want (to continue a session: send its `session_id` as `user`).
_COMPLETE_KEYS = ("conversation_id", "session_id", "message_id", "intent", "tools")


def error_type(status: int) -> str:
    """OpenAI's `error.type` for an HTTP status (its clients pick the exception by status)."""
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 404:
        return "not_found_error"
    if status == 429:
        return "rate_limit_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def error_object(status: int, message: str, code: str, param: str | None = None) -> dict[str, Any]:
    """`{"error": {message, type, code, param}}`: OpenAI's error body, our stable code in `code`."""
    return {"error": {"message": message, "type": error_type(status), "code": code, "param": param}}


def head(connected: dict[str, Any]) -> dict[str, Any]:
    """What every chunk of a stream repeats, from its `connected` payload (the route puts the
    model and the creation time there)."""
    return {"id": f"chatcmpl-{connected['stream_id']}", "created": int(connected.get("created", 0)),
            "model": str(connected.get("model", ""))}


def chunk(top: dict[str, Any], delta: dict[str, Any], *, finish_reason: str | None = None,
          extension: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {"id": top["id"], "object": "chat.completion.chunk", "created": top["created"], "model": top["model"],
           "system_fingerprint": None,
           "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
    if extension:
        out["storestream"] = extension
    return out


def chunk_of(event: Event, top: dict[str, Any]) -> dict[str, Any] | None:
    """The chunk (or error object) an event becomes; None: the event has no place here."""
    data = event.data
    match event.type:
        case "connected":
            return chunk(top, {"role": "assistant", "content": ""})
        case "text":
            return chunk(top, {"content": data["token"]})
        case "results":
            return chunk(top, {}, extension={"results": data})
        case "complete":
            return chunk(top, {}, finish_reason="stop",
                         extension={k: data[k] for k in _COMPLETE_KEYS if k in data})
        case "error" if data.get("fatal", True):
            return stream_error(data)
    return None


def stream_error(data: dict[str, Any]) -> dict[str, Any]:
    code = str(data.get("code", "INTERNAL_ERROR"))
    return error_object(STATUS_BY_CODE.get(code, 500), str(data.get("message", "")), code)


class ChunkFrames:
    """One stream's frame encoder (`wire.Encoder`): the chunks' common fields come from its
    `connected`; after a fatal error, `close` writes nothing (the error ended the stream)."""

    __slots__ = ("top", "failed")

    def __init__(self) -> None:
        self.top: dict[str, Any] = {"id": "chatcmpl-", "created": 0, "model": ""}
        self.failed = False

    def __call__(self, event: Event, event_id: str, *, retry_ms: int | None = None) -> bytes:
        if event.type == "connected":
            self.top = head(event.data)
        elif event.type == "close":
            return NOTHING if self.failed else DONE
        found = chunk_of(event, self.top)
        if found is None:
            return NOTHING
        if "error" in found:
            self.failed = True
        return data_frame(found)


def completion(events: list[Event]) -> tuple[int, dict[str, Any]]:
    """The non-streaming answer: (HTTP status, a `chat.completion` or an error object)."""
    top: dict[str, Any] = {"id": "chatcmpl-", "created": 0, "model": ""}
    content = ""
    extension: dict[str, Any] = {"results": {}}
    for event in events:
        data = event.data
        match event.type:
            case "connected":
                top = head(data)
            case "text":
                content = data["fullText"]
            case "results":
                extension["results"][data["type"]] = {k: v for k, v in data.items() if k != "type"}
            case "complete":
                extension.update({k: data[k] for k in _COMPLETE_KEYS if k in data})
            case "error" if data.get("fatal", True):
                failure = stream_error(data)
                return STATUS_BY_CODE.get(failure["error"]["code"], 500), failure
    return 200, {
        "id": top["id"], "object": "chat.completion", "created": top["created"], "model": top["model"],
        "system_fingerprint": None,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "storestream": extension,
    }
