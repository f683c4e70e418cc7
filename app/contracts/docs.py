"""The payload tables of docs/events.md, written from the event and results models.

    .venv/bin/python -m app.contracts.docs           # rewrite the tables in docs/events.md
    .venv/bin/python -m app.contracts.docs --check   # exit 1 if they differ from the models

The tables sit between two markers in docs/events.md; everything else in that file is
written by hand. tests/streams/test_events.py runs the check, so a model changed without its
table (or the reverse) fails the suite.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.contracts.openapi import _NoFieldTitles, tidy
from app.streams.schema import EVENT_MODELS, RESULT_MODELS

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
BEGIN = "<!-- payload tables: written by `python -m app.contracts.docs` from app/streams/schema.py; do not edit -->"
END = "<!-- end of payload tables -->"
REF = "#/$defs/{model}"


def _type(schema: dict[str, Any]) -> str:
    """A JSON Schema as a few words: `integer`, `string or null`, `list of ProductCard`..."""
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[1]}`"
    if "const" in schema:
        return f"`{schema['const']!r}`".replace("'", '"')
    if "enum" in schema:
        return " \\| ".join(f'`"{v}"`' for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(dict.fromkeys(_type(s) for s in schema[key]))
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object":
        extra = schema.get("additionalProperties")
        return f"object of {_type(extra)}" if isinstance(extra, dict) and extra else "object"
    if kind is None:
        return "any"
    return str(kind)


def _rows(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", ()))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        about = prop.get("description", "").replace("\n", " ").replace("|", "\\|")
        limits = [f"{word} {prop[key]}" for key, word in (("pattern", "pattern"), ("minimum", "min"),
                                                            ("maximum", "max")) if key in prop]
        if limits and not about:
            about = ", ".join(limits)
        rows.append(f"| `{name}` | {_type(prop)} | {'yes' if name in required else 'may be absent'} | {about} |")
    return rows


def _table(name: str, schema: dict[str, Any]) -> str:
    lines = [f"#### `{name}`", ""]
    if description := schema.get("description"):
        lines += [" ".join(description.split()), ""]
    rows = _rows(schema)
    if rows:
        lines += ["| field | type | required | about |", "|---|---|---|---|", *rows]
    if schema.get("additionalProperties") is False:
        lines += ["", "No other fields."]
    return "\n".join(lines)


def tables() -> str:
    models: list[type[BaseModel]] = [*EVENT_MODELS.values(), *RESULT_MODELS]
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=REF,
                                schema_generator=_NoFieldTitles)
    schemas = tidy(top["$defs"])
    events = [m.__name__ for m in EVENT_MODELS.values()]
    results = [m.__name__ for m in RESULT_MODELS]
    parts = [BEGIN, "", "### The events", ""]
    for name in events:
        if name == "ResultsEvent":
            kinds = ", ".join(f"`{m.__name__}`" for m in RESULT_MODELS)
            parts += ["#### `ResultsEvent`", "", f"One of {kinds}, by its `type` (below).", ""]
            continue
        parts += [_table(name, schemas[name]), ""]
    parts += ["### The results types", ""]
    for name in results:
        parts += [_table(name, schemas[name]), ""]
    parts += ["### Inside them", ""]
    for name in sorted(set(schemas) - set(events) - set(results)):
        parts += [_table(name, schemas[name]), ""]
    parts.append(END)
    return "\n".join(parts)


def rewrite(text: str) -> str:
    if BEGIN not in text or END not in text:
        raise ValueError(f"{DOC} has no payload-table markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + tables() + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/events.md differs from the models")
    args = parser.parse_args(argv)
    current = DOC.read_text(encoding="utf-8")
    wanted = rewrite(current)
    if args.check:
        if wanted != current:
            print(f"{DOC}: the payload tables differ from the models; run python -m app.contracts.docs",
                  file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        DOC.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
