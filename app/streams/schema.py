"""JSON Schemas of the eight event payloads, for `/openapi.json` (kept beside the constructors
in `events.py`; `tests/streams/test_schema.py` checks each constructor's output against them)."""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NUM = {"type": "number"}
_BOOL = {"type": "boolean"}

EVENT_SCHEMAS: dict[str, dict[str, Any]] = {
    "connected": {
        "type": "object",
        "required": ["stream_id", "stream", "message"],
        "properties": {"stream_id": _STR, "stream": _STR, "message": {"const": "Stream started"}},
        "additionalProperties": True,
        "description": "First event, sent before any work; carries `retry:`.",
    },
    "progress": {
        "type": "object",
        "required": ["step", "message"],
        "properties": {"step": _STR, "message": _STR, "count": _INT, "percent": _NUM},
        "additionalProperties": True,
    },
    "results": {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {
                "enum": ["product_cards", "suggestions", "sources", "intent", "market_intelligence", "comparison", "stock", "chunks"]
            }
        },
        "additionalProperties": True,
    },
    "text": {
        "type": "object",
        "required": ["token", "fullText"],
        "properties": {"token": _STR, "fullText": _STR},
        "additionalProperties": False,
    },
    "audio": {
        "type": "object",
        "required": ["chunk", "format", "seq", "text"],
        "properties": {
            "chunk": {"type": "string", "contentEncoding": "base64"},
            "format": _STR,
            "seq": _INT,
            "text": _STR,
        },
        "additionalProperties": True,
    },
    "complete": {
        "type": "object",
        "properties": {"total": _INT, "duration": {"type": "number", "description": "ms"}},
        "additionalProperties": True,
    },
    "error": {
        "type": "object",
        "required": ["message", "error", "code", "timestamp", "retryable", "fatal"],
        "properties": {
            "message": _STR,
            "error": _STR,
            "code": {"type": "string", "pattern": "^[A-Z][A-Z_]*$"},
            "timestamp": {"type": "string", "format": "date-time"},
            "retryable": _BOOL,
            "fatal": _BOOL,
        },
        "additionalProperties": True,
    },
    "close": {
        "type": "object",
        "required": ["message"],
        "properties": {"message": {"const": "Stream ended"}},
        "additionalProperties": False,
    },
}
