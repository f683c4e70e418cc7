"""Checks of our own for the schemathesis run (tests/platform/test_schemathesis.py), loaded
with SCHEMATHESIS_HOOKS=tests.support.schemathesis_hooks.

A 5xx is caught by `not_a_server_error`, but a failure inside a stream that already answered
200 is an `error` event, not a status: these read the events (and the JSON twins' folded
documents) so that an unexpected failure after the headers fails the run too.
"""

from __future__ import annotations

import json

import schemathesis

_UNEXPECTED = {"INTERNAL_ERROR"}


def _events(text: str) -> list[tuple[str, str]]:
    """(event, data) of each SSE frame; enough parsing for our own wire format."""
    out = []
    for block in text.split("\n\n"):
        kind, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if data:
            out.append((kind, "\n".join(data)))
    return out


@schemathesis.check
def no_internal_error_event(ctx, response, case):  # noqa: ANN001, ANN201 - schemathesis' signature
    """No stream (or folded stream) ended with an unexpected failure; every stream that
    answered 200 ends with `close`."""
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if content_type.startswith("text/event-stream") and response.status_code == 200:
        events = _events(response.text)
        if events and all(kind == "message" for kind, _ in events):  # a protocol's (docs/protocols.md)
            cut = getattr(response, "stream_cut_short", False)
            if '"RUN_STARTED"' in events[0][1]:  # AG-UI's events
                _ag_ui_events(events, cut)
                return
            if '"type"' in events[0][1]:  # the AI SDK's UI message chunks
                _ui_message_chunks(events)
            _openai_chunks(events, cut)
            return
        for kind, data in events:
            if kind == "error" and json.loads(data).get("code") in _UNEXPECTED:
                raise AssertionError(f"the stream failed after its headers: {data}")
        cut = getattr(response, "stream_cut_short", False)  # read up to max-stream-events only
        if not cut and (not events or events[-1][0] != "close"):
            raise AssertionError(f"the stream did not end with close: {[k for k, _ in events][-5:]}")
    elif content_type.startswith("application/json") and response.status_code >= 400:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("code") in _UNEXPECTED:
            raise AssertionError(f"the folded stream failed: {error}")


def _ui_message_chunks(events: list[tuple[str, str]]) -> None:
    """No `error` part with an unexpected code (`errorText` is "<CODE>: <message>")."""
    for _, data in events:
        part = json.loads(data) if data.startswith("{") else {}
        if part.get("type") == "error" and str(part.get("errorText", "")).split(":")[0] in _UNEXPECTED:
            raise AssertionError(f"the stream failed after its headers: {data}")


def _ag_ui_events(events: list[tuple[str, str]], cut: bool) -> None:
    """AG-UI: the run ends with RUN_FINISHED, or RUN_ERROR with a code that is not INTERNAL_ERROR."""
    last = json.loads(events[-1][1])
    if not cut and last.get("type") not in ("RUN_FINISHED", "RUN_ERROR"):
        raise AssertionError(f"the run did not end with RUN_FINISHED or RUN_ERROR: {events[-1][1][:200]}")
    if last.get("type") == "RUN_ERROR" and last.get("code") in _UNEXPECTED:
        raise AssertionError(f"the stream failed after its headers: {events[-1][1]}")


def _openai_chunks(events: list[tuple[str, str]], cut: bool) -> None:
    """`data:` lines only: chunks, then `[DONE]` or an error object that is not INTERNAL_ERROR."""
    last = events[-1][1]
    if last != "[DONE]":
        error = json.loads(last).get("error") if last.startswith("{") else None
        if not cut and not isinstance(error, dict):
            raise AssertionError(f"the chunks did not end with [DONE] or an error: {last[:200]}")
        if isinstance(error, dict) and error.get("code") in _UNEXPECTED:
            raise AssertionError(f"the stream failed after its headers: {last}")
