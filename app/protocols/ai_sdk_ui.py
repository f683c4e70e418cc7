"""The Vercel AI SDK's UI message stream (protocol v1, header `x-vercel-ai-ui-message-stream:
v1`) as a mapping of our events (docs/protocols.md). Part names and fields are those of the
`ai` package's `uiMessageChunkSchema` (ai 6.0, node_modules/ai/dist/index.mjs); each part is
one `data:` line of JSON, the stream ends with `data: [DONE]`:

- `connected` -> `start` with `messageId` (`msg-<stream_id>`) and our ids as `messageMetadata`:
  the session's, and the stream's (`streamId`, and `eventId`, the id of this event: the
  frames carry no `id:` lines, and the stop route takes it as `Last-Event-ID`);
- `progress` of a tool (the sales agent's) -> `tool-input-available` (`toolCallId`,
  `toolName`, `input`: the tool's arguments); any other progress -> a transient
  `data-progress` part (to `onData`, not kept in the message);
- `results` -> a `data-<type>` part (`data-product_cards`, `data-market_intelligence`,
  `data-comparison`, `data-stock`, `data-suggestions`, `data-intent`) whose `id` is the type,
  so a later payload of a type replaces the earlier one, as the JSON twin folds them; when it
  is what a tool called earlier found, a `tool-output-available` for that call comes first
  (its `output` the payload; for product cards their total and skus, the cards being in the
  data part; a call with nothing to show gets `output: {}` when the answer starts); `sources` -> one `source-document` part per passage (the passage, page and
  score under `providerMetadata.storestream`);
- `text` -> `text-start` (once per text run), `text-delta`; `text-end` before any other part;
- `audio` -> a transient `data-audio` part: the message keeps no audio (`useChat` sends the
  whole message history back with every request: base64 speech in `file` parts would
  grow each request by the size of every answer spoken so far); `onData` plays it;
- `complete` -> `finish` (`finishReason: "stop"`, our ids as `messageMetadata`);
- a fatal `error` -> `error` with `errorText` (`"<CODE>: <message>"`), a non-fatal one -> a
  transient `data-error` part (the answer goes on; an `error` part would end `useChat`'s turn);
- `close` -> `finish` (when no `complete` came: `finishReason: "error"` after an error, else
  "other") and `data: [DONE]`.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from app.streams.wire import data_frame
from app.streams.events import Event

HEADER = (b"x-vercel-ai-ui-message-stream", b"v1")
DONE = b"data: [DONE]\n\n"

# Which results type holds what a tool found (app/agent/agent.py): it is the tool's output.
TOOL_RESULTS = {
    "search_catalog": "product_cards",
    "market_snapshot": "market_intelligence",
    "compare_products": "comparison",
    "check_stock": "stock",
}
_START_KEYS = {"session_id": "sessionId", "conversation_id": "conversationId"}
_FINISH_KEYS = {"session_id": "sessionId", "conversation_id": "conversationId", "message_id": "storedMessageId",
                "intent": "intent", "tools": "tools"}


def message_id(stream_id: str) -> str:
    return f"msg-{stream_id}"


def tool_output(payload: dict[str, Any]) -> dict[str, Any]:
    """A tool's output: the payload, but product cards by reference (they are in the data part)."""
    body = {k: v for k, v in payload.items() if k != "type"}
    if payload.get("type") == "product_cards":
        return {"total": body.get("total"), "skus": [card.get("sku") for card in body.get("products") or []]}
    return body


def source_documents(payload: dict[str, Any]) -> list[dict[str, Any]]:
    parts = []
    for n, source in enumerate(payload.get("sources") or []):
        name = source.get("file_name") or "document"
        media = mimetypes.guess_type(name)[0] or "text/plain"
        extra = {k: source[k] for k in ("file_id", "chunk_index", "page", "start", "end", "score", "text")
                 if source.get(k) is not None}
        parts.append({"type": "source-document",
                      "sourceId": f"{source.get('file_id') or 'source'}:{source.get('chunk_index', n)}",
                      "mediaType": media, "title": name, "filename": name,
                      "providerMetadata": {"storestream": extra}})
    return parts


class UIMessageFrames:
    """One stream's frame encoder (`wire.Encoder`). State: the open text part, the tool calls
    waiting for their output, whether `finish` was sent and whether a fatal error came."""

    __slots__ = ("texts", "text_open", "calls", "pending", "finished", "failed")

    def __init__(self) -> None:
        self.texts = 0
        self.text_open = False
        self.calls = 0
        self.pending: dict[str, str] = {}  # toolCallId -> the results type it waits for ("": none)
        self.finished = False
        self.failed = False

    def __call__(self, event: Event, event_id: str, *, retry_ms: int | None = None) -> bytes:
        parts = self.parts(event, event_id)
        out = b"".join(data_frame(part) for part in parts)
        return out + DONE if event.type == "close" else out

    def parts(self, event: Event, event_id: str = "") -> list[dict[str, Any]]:
        """The UI message chunks `event` becomes, in order (empty: it has no place here);
        `event_id` is the event's id in the stream (`<token>-<seq>`)."""
        data = event.data
        kind = event.type
        out: list[dict[str, Any]] = []
        aside = kind == "audio" or (kind == "error" and not data.get("fatal", True))  # transient parts
        if self.text_open and kind != "text" and not aside:
            out.append({"type": "text-end", "id": f"text-{self.texts}"})
            self.text_open = False
        match kind:
            case "connected":
                meta = {v: data[k] for k, v in _START_KEYS.items() if data.get(k)}
                if event_id:
                    meta.update(streamId=str(data.get("stream_id", "")), eventId=event_id)
                start: dict[str, Any] = {"type": "start", "messageId": message_id(str(data.get("stream_id", "")))}
                if meta:
                    start["messageMetadata"] = meta
                out.append(start)
            case "progress" if data.get("step") == "tool" and data.get("tool"):
                self.calls += 1
                call_id = f"call-{self.calls}"
                name = str(data["tool"])
                self.pending[call_id] = TOOL_RESULTS.get(name, "")
                out.append({"type": "tool-input-available", "toolCallId": call_id, "toolName": name,
                            "input": data.get("args") or {}})
            case "progress":
                out.append({"type": "data-progress", "data": data, "transient": True})
            case "results":
                kind_of = str(data.get("type", ""))
                for call_id in [c for c, waits in self.pending.items() if waits == kind_of]:
                    del self.pending[call_id]
                    out.append({"type": "tool-output-available", "toolCallId": call_id, "output": tool_output(data)})
                if kind_of == "sources":
                    out.extend(source_documents(data))
                else:
                    out.append({"type": f"data-{kind_of}", "id": kind_of,
                                "data": {k: v for k, v in data.items() if k != "type"}})
            case "text":
                if not self.text_open:
                    out.extend(self._unanswered())  # the answer starts: every tool is done
                    self.texts += 1
                    self.text_open = True
                    out.append({"type": "text-start", "id": f"text-{self.texts}"})
                out.append({"type": "text-delta", "id": f"text-{self.texts}", "delta": data["token"]})
            case "audio":
                out.append({"type": "data-audio", "data": data, "transient": True})
            case "complete":
                out.extend(self._unanswered())
                meta = {v: data[k] for k, v in _FINISH_KEYS.items() if data.get(k) is not None}
                out.append({"type": "finish", "finishReason": "stop", "messageMetadata": meta})
                self.finished = True
            case "error" if data.get("fatal", True):
                self.failed = True
                out.append({"type": "error",
                            "errorText": f"{data.get('code', 'INTERNAL_ERROR')}: {data.get('message', '')}"})
            case "error":
                out.append({"type": "data-error", "data": data, "transient": True})
            case "close" if not self.finished:
                out.extend(self._unanswered())
                out.append({"type": "finish", "finishReason": "error" if self.failed else "other"})
                self.finished = True
        return out

    def _unanswered(self) -> list[dict[str, Any]]:
        """Tool calls whose results never came (nothing found, or a tool whose findings only
        the answer uses: the store's documents): their output is empty."""
        waiting = list(self.pending)
        self.pending.clear()
        return [{"type": "tool-output-available", "toolCallId": call, "output": {}} for call in waiting]
