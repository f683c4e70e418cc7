"""A request body as an untyped JSON object, read within bounds.

Every route now reads its parameters through its typed contract (app/contracts/reading.py:
`read_json`, `read_query`), which also refuses what this parser let through (lone surrogates,
deep nesting, NaN, a non-JSON Content-Type). This is kept for code that wants the raw object.
"""

from __future__ import annotations

import json
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
