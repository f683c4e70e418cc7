"""The JSON twin of a stream: the same normalised event sequence folded into one document.

Folding rules (documented in docs/events.md):
- `results`: keyed by their `type`; a later payload of the same type replaces an earlier one
  (e.g. search's `stage: "final"` cards replace the early `stage: "text"` ones);
- `text`: the last `fullText`;  `audio`: the list of chunks in `seq` order;
- `progress`: the list of steps; `error`: a fatal one becomes `error`, others `warnings`;
- `complete`: its fields, under `complete`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import create_model

from app.contracts.fields import Payload
from app.streams.events import Event
from app.streams.schema import (
    RESULT_MODELS,
    Absent,
    AudioEvent,
    ChunksResult,
    CompleteEvent,
    ErrorEvent,
    ProductCardsResult,
    ProgressEvent,
)

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


def results_answer(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The JSON twin of a stream whose answer is its last `kind` results payload (search and
    Aza: `product_cards`; an upload: `chunks`): that payload with the fold's status, and its
    error, complete and stream id when there are any."""

    def shape(doc: dict[str, Any]) -> dict[str, Any]:
        out = {"status": doc["status"], **doc["results"].get(kind, {})}
        for key in ("error", "complete", "stream_id"):
            if key in doc:
                out[key] = doc[key]
        return out

    return shape


# -- the folded documents, declared (for /openapi.json) ------------------------------------------


def _folded(model: type[Payload]) -> type[Payload]:
    """A results model as folded: keyed by its type, so without its `type` field."""
    name = model.__name__.removesuffix("Result") + "Folded"
    kind: Any = model.model_fields["type"].annotation
    return create_model(name, __base__=model, __doc__=model.__doc__ or f"A `{name}` result, folded",
                        type=(kind, Absent("not repeated: it is the key")))


FOLDED = {m.model_fields["type"].annotation.__args__[0]: _folded(m) for m in RESULT_MODELS}  # type: ignore[union-attr]
FoldedResults = create_model(
    "FoldedResults", __base__=Payload, __doc__="The last `results` payload of each type, keyed by type",
    **{kind: (model, Absent()) for kind, model in FOLDED.items()},  # type: ignore[call-overload]
)


class _Outcome(Payload):
    stream_id: str = Absent("the stream's public name")
    complete: CompleteEvent = Absent("on success")
    error: ErrorEvent = Absent("the fatal error, when the stream failed")


class FoldedStream(_Outcome):
    """A stream folded into one document (the JSON twin of chat and the sales agent)."""

    status: Literal["ok", "error"]
    stream: str = Absent()
    progress: list[ProgressEvent]
    results: FoldedResults  # type: ignore[valid-type]
    text: str = ""
    audio: list[AudioEvent] = Absent("in `seq` order")
    warnings: list[ErrorEvent] = Absent("non-fatal errors (speech failed, the text went on)")


class StreamFailure(_Outcome):
    """A JSON twin whose stream ended in a fatal error (its HTTP status: 400, 502, 503, 504)."""

    status: Literal["error"]
    error: ErrorEvent


class SearchAnswer(_Outcome, ProductCardsResult):
    """The search and Aza twins: the final `product_cards` payload."""

    status: Literal["ok"]
    type: Literal["product_cards"] = Absent("not repeated: it is the key")


class UploadAnswer(_Outcome, ChunksResult):
    """The upload twin: the `chunks` payload."""

    status: Literal["ok"]
    type: Literal["chunks"] = Absent("not repeated: it is the key")
