"""How a stream's 200 reads in an API explorer: its events in order with their payload schemas
(the response's description, Markdown) and the stream on the wire (the response's example).

Explorers do not read the per-event `text/event-stream` schema (one `oneOf` item per event,
app/contracts/openapi.py) as a sequence; the order comes from the operation's `x-events`
(`kind[:detail]`, `*` any number of times, `?` when there is one: app/streams/endpoint.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

EXAMPLE_TOKEN = "5f0c3e1b9a7d4c2e8f6a0b1c2d3e4f50"  # the resume token docs/events.md shows


@dataclass(frozen=True)
class Entry:
    """One `x-events` entry: `results:product_cards(stage=text)`, `progress:tool*`, `text*`."""

    kind: str
    names: tuple[str, ...]  # the step or results type, or several (`a|b`)
    qualifier: str  # `stage=text`
    many: bool
    maybe: bool
    schemas: tuple[str, ...]  # its payload schemas' names

    @classmethod
    def parse(cls, entry: str, payloads: dict[str, list[str]]) -> Entry:
        kind, _, detail = entry.rstrip("*?").partition(":")
        name, _, qualifier = detail.partition("(")
        names = tuple(n for n in name.split("|") if n)
        schemas = payloads.get(f"{kind}:{names[0]}" if names else kind) or payloads.get(kind) or []
        return cls(kind, names, qualifier.rstrip(")"), entry.endswith("*"), entry.endswith("?"), tuple(schemas))


def payloads(stream: dict[str, Any], components: dict[str, Any]) -> dict[str, list[str]]:
    """Event type (and `results:<type>`) -> the names of its payload schemas, read from a
    stream's schema (`data.contentSchema` a `$ref` or a `oneOf` of them) and, for results, from
    each result schema's `type` constant."""
    names: dict[str, list[str]] = {}
    for item in stream.get("oneOf", ()):
        props = item.get("properties", {})
        kind = props.get("event", {}).get("const")
        content = props.get("data", {}).get("contentSchema", {})
        for target in [c["$ref"] for c in content.get("oneOf", [content]) if "$ref" in c]:
            name = target.rsplit("/", 1)[-1]
            names.setdefault(kind, []).append(name)
            result = components.get(name, {}).get("properties", {}).get("type", {}).get("const")
            if kind == "results" and result:
                names.setdefault(f"results:{result}", []).append(name)
    return names


def entries(events: Sequence[str] | None, stream: dict[str, Any], components: dict[str, Any]) -> list[Entry]:
    """The stream's events in order (every event type it may send when `x-events` is absent)."""
    found = payloads(stream, components)
    order = list(events) if events else [kind for kind in found if ":" not in kind]
    return [Entry.parse(entry, found) for entry in order]


def description(lead: str, events: Sequence[str] | None, stream: dict[str, Any],
                components: dict[str, Any]) -> str:
    lines = []
    for e in entries(events, stream, components):
        text = f"`{e.kind}`" + (" " + " or ".join(f"`{n}`" for n in e.names) if e.names else "")
        text += f" ({e.qualifier})" if e.qualifier else ""
        text += " (any number)" if e.many else " (when there is one)" if e.maybe else ""
        lines.append(f"1. {text}: {', '.join(f'`{s}`' for s in e.schemas) or 'no payload schema'}")
    error = payloads(stream, components).get("error")
    if events and error and not any(entry.startswith("error") for entry in events):
        lines.append(f"\nA failure is an `error` event (`{error[0]}`): with `fatal: false` the stream goes on, "
                     "otherwise `close` follows.")
    return (f"{lead}. Its events, in this order (each `data` is one line of JSON; the payload schemas are "
            "under Schemas, and in docs/events.md):\n\n" + "\n".join(lines))


def example(events: Sequence[str] | None, stream: dict[str, Any], components: dict[str, Any]) -> str:
    """One frame per event in order, each `data` holding its payload's required fields as
    placeholders (as explorers draw JSON examples)."""
    frames = []
    for seq, e in enumerate(entries(events, stream, components), start=1):
        data = sample(components.get(e.schemas[0], {}), components) if e.schemas else {}
        if e.kind == "progress" and e.names:
            data["step"] = e.names[0]
        frame = f"id: {EXAMPLE_TOKEN}-{seq}\nevent: {e.kind}\n" + ("retry: 3000\n" if e.kind == "connected" else "")
        frames.append(frame + "data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    return "\n".join(frames)


def sample(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A placeholder value of a schema: its constant, first choice, or type's zero; an
    object's required fields only."""
    if "$ref" in schema:
        return sample(components.get(schema["$ref"].rsplit("/", 1)[-1], {}), components)
    if "const" in schema or "enum" in schema:
        return schema.get("const", (schema.get("enum") or [None])[0])
    if choices := schema.get("anyOf") or schema.get("oneOf"):
        return sample(choices[0], components)
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: sample(props[name], components) for name in schema.get("required", ()) if name in props}
    zeros: dict[Any, Any] = {"string": "string", "integer": 0, "number": 0, "boolean": True, "array": []}
    return zeros.get(schema.get("type"))
