"""AG-UI (the Agent-User Interaction protocol, CopilotKit's; `@ag-ui/core` 1.0) as a mapping of
our events (docs/protocols.md). Event types and fields are those of `@ag-ui/core`'s
`EventType` and event types (node_modules/@ag-ui/core/dist/*.d.ts); each event is one `data:`
line of JSON (no `event:` or `id:` lines), as `HttpAgent` reads them:

- `connected` -> `RUN_STARTED` (`threadId`, `runId`: the request's, in the connected payload);
- `progress` of a tool (the sales agent's) -> `TOOL_CALL_START` (`toolCallId`
  `call-<stream_id>-<n>`, `toolCallName`, `parentMessageId` `calls-<stream_id>`: one assistant
  message holds the turn's calls), `TOOL_CALL_ARGS` (`delta`: the arguments as JSON, whole),
  `TOOL_CALL_END`; any other progress -> `CUSTOM` named `progress`;
- `results` -> `CUSTOM` named by the type (`intent`, `product_cards`, `market_intelligence`,
  `comparison`, `stock`, `suggestions`, `sources`), `value` the payload; when it is what a tool
  called earlier found, a `TOOL_CALL_RESULT` for that call comes first (`messageId`
  `result-<toolCallId>`, `content`: the output as JSON, product cards by reference as in the
  AI SDK mapping; a call with nothing to show gets `{}` when the answer starts);
- `text` -> `TEXT_MESSAGE_START` (`messageId` `msg-<stream_id>`, `role: "assistant"`) before
  the first token, then `TEXT_MESSAGE_CONTENT` (`delta`) per token; `TEXT_MESSAGE_END` when
  the run ends;
- `audio` -> `CUSTOM` named `audio` (`value`: `{chunk, format, seq, text}`);
- `complete` -> `TEXT_MESSAGE_END` (if open), `STATE_DELTA` (JSON Patch `add`s of what the
  agent now remembers: `/sessionId`, `/conversationId`, `/intent`, `/search` `{query,
  filters}` when it searched, `/shown` the skus of the cards shown), `RUN_FINISHED`
  (`outcome: {type: "success"}`, `result`: our ids);
- a fatal `error` -> `RUN_ERROR` (`message`, `code`: our code); a non-fatal one -> `CUSTOM`
  named `error` (the answer goes on);
- `close` -> `RUN_FINISHED` if neither `complete` nor an error ended the run; else nothing.
"""

from __future__ import annotations

import json
from typing import Any

from app.protocols.ai_sdk_ui import TOOL_RESULTS, tool_output
from app.streams.wire import data_frame
from app.streams.events import Event

THREAD_KEY = "ag_ui_thread_id"  # the connected payload's: the request's threadId and runId
RUN_KEY = "ag_ui_run_id"
_RESULT_KEYS = {"session_id": "sessionId", "conversation_id": "conversationId", "message_id": "storedMessageId",
                "intent": "intent", "tools": "tools"}


class AgUiFrames:
    """One stream's frame encoder (`wire.Encoder`). State: the run's ids, the open text
    message, the tool calls waiting for their result, what the agent will remember, and whether
    the run has ended (`RUN_FINISHED` or `RUN_ERROR`: nothing may follow either)."""

    __slots__ = ("stream", "thread", "run", "text_open", "calls", "pending", "remembered", "ended")

    def __init__(self) -> None:
        self.stream = ""
        self.thread = ""
        self.run = ""
        self.text_open = False
        self.calls = 0
        self.pending: dict[str, str] = {}  # toolCallId -> the results type it waits for ("": none)
        self.remembered: dict[str, Any] = {}
        self.ended = False

    def __call__(self, event: Event, event_id: str, *, retry_ms: int | None = None) -> bytes:
        return b"".join(data_frame(e) for e in self.events(event))

    def events(self, event: Event) -> list[dict[str, Any]]:
        """The AG-UI events `event` becomes, in order (empty: it has no place here)."""
        if self.ended:
            return []
        data = event.data
        out: list[dict[str, Any]] = []
        match event.type:
            case "connected":
                self.stream = str(data.get("stream_id", ""))
                self.thread = str(data.get(THREAD_KEY) or data.get("session_id") or "")
                self.run = str(data.get(RUN_KEY) or self.stream)
                self.remembered.update(ids(data, ("session_id", "conversation_id")))
                out.append({"type": "RUN_STARTED", "threadId": self.thread, "runId": self.run})
            case "progress" if data.get("step") == "tool" and data.get("tool"):
                self.calls += 1
                call_id = f"call-{self.stream}-{self.calls}"
                name = str(data["tool"])
                args = data.get("args") or {}
                self.pending[call_id] = TOOL_RESULTS.get(name, "")
                if name == "search_catalog":
                    self.remembered["search"] = {"query": args.get("query", ""), "filters": args.get("filters") or {}}
                out += [{"type": "TOOL_CALL_START", "toolCallId": call_id, "toolCallName": name,
                         "parentMessageId": f"calls-{self.stream}"},
                        {"type": "TOOL_CALL_ARGS", "toolCallId": call_id, "delta": json.dumps(args)},
                        {"type": "TOOL_CALL_END", "toolCallId": call_id}]
            case "progress":
                out.append(custom("progress", data))
            case "results":
                kind = str(data.get("type", ""))
                for call_id in [c for c, waits in self.pending.items() if waits == kind]:
                    del self.pending[call_id]
                    out.append(tool_result(call_id, tool_output(data)))
                if kind == "intent":
                    self.remembered["intent"] = data.get("intent")
                elif kind == "product_cards":
                    self.remembered["shown"] = [card.get("sku") for card in data.get("products") or []]
                out.append(custom(kind, {k: v for k, v in data.items() if k != "type"}))
            case "text":
                if not self.text_open:
                    out.extend(self._unanswered())  # the answer starts: every tool is done
                    self.text_open = True
                    out.append({"type": "TEXT_MESSAGE_START", "messageId": f"msg-{self.stream}", "role": "assistant"})
                out.append({"type": "TEXT_MESSAGE_CONTENT", "messageId": f"msg-{self.stream}", "delta": data["token"]})
            case "audio":
                out.append(custom("audio", data))
            case "complete":
                out.extend(self._closing())
                self.remembered.update(ids(data, ("session_id", "conversation_id", "intent")))
                out.append({"type": "STATE_DELTA",
                            "delta": [{"op": "add", "path": f"/{key}", "value": value}
                                      for key, value in self.remembered.items()]})
                result = {v: data[k] for k, v in _RESULT_KEYS.items() if data.get(k) is not None}
                out.append({"type": "RUN_FINISHED", "threadId": self.thread, "runId": self.run,
                            "outcome": {"type": "success"}, "result": result})
                self.ended = True
            case "error" if data.get("fatal", True):
                out.extend(self._closing())
                out.append({"type": "RUN_ERROR", "message": str(data.get("message", "")),
                            "code": str(data.get("code", "INTERNAL_ERROR"))})
                self.ended = True
            case "error":
                out.append(custom("error", data))
            case "close":
                out.extend(self._closing())
                out.append({"type": "RUN_FINISHED", "threadId": self.thread, "runId": self.run,
                            "outcome": {"type": "success"}})
                self.ended = True
        return out

    def _closing(self) -> list[dict[str, Any]]:
        """Before the run ends: every tool call answered, the text message ended."""
        out = self._unanswered()
        if self.text_open:
            out.append({"type": "TEXT_MESSAGE_END", "messageId": f"msg-{self.stream}"})
            self.text_open = False
        return out

    def _unanswered(self) -> list[dict[str, Any]]:
        """Tool calls whose results never came (nothing found, or the store's documents, which
        only the answer uses): their result is empty."""
        waiting = list(self.pending)
        self.pending.clear()
        return [tool_result(call, {}) for call in waiting]


def ids(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {_RESULT_KEYS[k]: data[k] for k in keys if data.get(k)}


def custom(name: str, value: Any) -> dict[str, Any]:
    return {"type": "CUSTOM", "name": name, "value": value}


def tool_result(call_id: str, output: dict[str, Any]) -> dict[str, Any]:
    return {"type": "TOOL_CALL_RESULT", "messageId": f"result-{call_id}", "toolCallId": call_id,
            "content": json.dumps(output), "role": "tool"}
