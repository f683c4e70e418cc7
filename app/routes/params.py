"""Reading request parameters strictly: every problem is a `BadRequest` naming the field,
raised before any stream starts. Shared by the query-string and JSON-body endpoints.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from app.errors import BadRequest
from app.routes import body as bodies

JSON_MAX_BYTES = 64 * 1024  # a chat message, an agent turn, an Aza query: a few KB at most


async def json_object(request: Request, max_bytes: int = JSON_MAX_BYTES) -> dict[str, Any]:
    """The request body as a JSON object, read within bounds (app/routes/body.py: 413 past
    `max_bytes`, 408 when it stops arriving), before any stream uses `receive`."""
    body = await bodies.reader(request, max_bytes).read()
    if not body.strip():
        raise BadRequest("a JSON object body is required", field="body")
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body is not valid JSON", field="body") from None
    if not isinstance(value, dict):
        raise BadRequest("body must be a JSON object", field="body")
    return value


def text(source: Mapping[str, Any], name: str, *, max_len: int, required: bool = True) -> str:
    value = source.get(name)
    if value is None:
        if required:
            raise BadRequest(f"{name} is required", field=name)
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", field=name)
    value = value.strip()
    if required and not value:
        raise BadRequest(f"{name} must not be empty", field=name)
    if len(value) > max_len:
        raise BadRequest(f"{name} must be at most {max_len} characters", field=name)
    if "\x00" in value:
        raise BadRequest(f"{name} must not contain NUL characters", field=name)
    return value


def integer(source: Mapping[str, Any], name: str, *, default: int, low: int, high: int) -> int:
    value = source.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise BadRequest(f"{name} must be an integer from {low} to {high}", field=name)
    if isinstance(value, str):
        value = value.strip()
        if not value.lstrip("-").isdigit():
            raise BadRequest(f"{name} must be an integer from {low} to {high}", field=name)
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{name} must be an integer from {low} to {high}", field=name)
    return value


def number(source: Mapping[str, Any], name: str, *, low: float = 0.0, high: float = 1e12) -> float | None:
    value = source.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadRequest(f"{name} must be a number", field=name)
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", ""))
        except ValueError:
            raise BadRequest(f"{name} must be a number", field=name) from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"{name} must be a number", field=name)
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low:g} and {high:g}", field=name)
    return float(value)


def boolean(source: Mapping[str, Any], name: str) -> bool | None:
    value = source.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "no"}:
        return False
    raise BadRequest(f"{name} must be true or false", field=name)


def choice(source: Mapping[str, Any], name: str, options: tuple[str, ...], default: str) -> str:
    value = source.get(name)
    if value is None or value == "":
        return default
    if not isinstance(value, str) or value.strip().lower() not in options:
        raise BadRequest(f"{name} must be one of: {', '.join(options)}", field=name)
    return value.strip().lower()


def words(source: Mapping[str, Any], name: str, *, max_items: int = 20) -> tuple[str, ...]:
    """A list of short strings: a JSON array, or comma-separated in a query string."""
    value = source.get(name)
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise BadRequest(f"{name} must be a list of strings", field=name)
    cleaned = tuple(i.strip() for i in items if i.strip())
    if len(cleaned) > max_items or any(len(i) > 64 for i in cleaned):
        raise BadRequest(f"{name} takes at most {max_items} values of 64 characters", field=name)
    return cleaned
