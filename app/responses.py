"""JSON responses that cannot fail to render.

Starlette's `JSONResponse` raises on a lone surrogate (`.encode("utf-8")`), on NaN or
Infinity (`allow_nan=False`) and on a value that refers to itself: each of those was a 500
after the work was done (a chat twin whose answer quoted a surrogate, a catalog row's NaN
echoed back). This one renders what it can as it always did (compact, UTF-8, not
ASCII-escaped) and, only when that fails, writes the content made JSON-safe
(`app.streams.wire.json_safe`: surrogates as `\\u` escapes, non-finite numbers as null).
"""

from __future__ import annotations

import json
from typing import Any

from starlette import responses

from app.streams.wire import json_safe


class JSONResponse(responses.JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
        except (UnicodeEncodeError, ValueError, TypeError, RecursionError):
            return json.dumps(json_safe(content), ensure_ascii=True, allow_nan=False, default=str,
                              separators=(",", ":")).encode("utf-8")
