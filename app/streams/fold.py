"""The JSON twin of a stream: the same normalised event sequence folded into one document.

Folding rules (documented in docs/events.md):
- `results`: keyed by their `type`; a later payload of the same type replaces an earlier one
  (e.g. search's `stage: "final"` cards replace the early `stage: "text"` ones);
- `text`: the last `fullText`;  `audio`: the list of chunks in `seq` order;
- `progress`: the list of steps; `error`: a fatal one becomes `error`, others `warnings`;
- `complete`: its fields, under `complete`.
"""

from __future__ import annotations

from typing import Any

from app.streams.events import Event

# HTTP status of a folded document whose stream ended in a fatal error.
STATUS_BY_CODE: dict[str, int] = {
    "INVALID_PARAMETERS": 400,
    "STREAM_EXPIRED": 410,
    "UPSTREAM_UNAVAILABLE": 502,
    "DB_UNAVAILABLE": 503,
    "STREAM_TIMEOUT": 504,
}


def fold(events: list[Event]) -> tuple[int, dict[str, Any]]:
    """Return (HTTP status, document) for a finished event sequence."""
    doc: dict[str, Any] = {"status": "ok", "results": {}, "text": "", "progress": []}
    audio: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    status = 200
    for event in events:
        data = event.data
        match event.type:
            case "connected":
                doc["stream_id"] = data["stream_id"]
                doc["stream"] = data["stream"]
            case "progress":
                doc["progress"].append(data)
            case "results":
                payload = {k: v for k, v in data.items() if k != "type"}
                doc["results"][data["type"]] = payload
            case "text":
                doc["text"] = data["fullText"]
            case "audio":
                audio.append(data)
            case "complete":
                doc["complete"] = data
            case "error":
                if data.get("fatal", True):
                    doc["status"] = "error"
                    doc["error"] = data
                    status = STATUS_BY_CODE.get(data.get("code", ""), 500)
                else:
                    warnings.append(data)
    if audio:
        doc["audio"] = sorted(audio, key=lambda a: a.get("seq", 0))
    if warnings:
        doc["warnings"] = warnings
    return status, doc
