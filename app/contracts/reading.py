"""Reading a request into its contract, or refusing it with a 4xx JSON body naming the field,
before any stream starts.

- `read_json`: 415 unless the Content-Type is JSON (`application/json` or a `+json` type;
  a `charset` must be UTF-8), then the body within its bounds (app/routes/body.py: 413, 408),
  then the model (`model_validate_json`: strict, so lone surrogates, nesting past ~200 levels,
  NaN, Infinity and 1e400 are refused by the parser itself).
- `read_query`: the query string into its model; an empty value is the same as none.
- `refusal`: a `ValidationError` as `BadRequest(400, field=<dotted path>)`.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from python_multipart.multipart import parse_options_header
from starlette.requests import Request

from app.errors import BadRequest
from app.routes.body import Bodies

M = TypeVar("M", bound=BaseModel)

JSON_MAX_BYTES = 64 * 1024  # a chat message, an agent turn, an Aza query: a few KB at most
# A protocol whose client posts the whole conversation every turn (`useChat`, `HttpAgent`).
HISTORY_MAX_BYTES = 512 * 1024
CLOSE = {"Connection": "close"}  # the unread body cannot be told from a next request


def is_json(content_type: str | None) -> bool:
    """`application/json` or `application/<anything>+json`, parameters allowed, a charset
    only if it is UTF-8 (RFC 8259: JSON exchanged between systems is UTF-8)."""
    if not content_type:
        return False
    media, options = parse_options_header(content_type)
    kind = media.decode("latin-1").lower()
    if kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
        return False
    charset = options.get(b"charset")
    return charset is None or charset.decode("latin-1").lower() in ("utf-8", "utf8")


def require_json(request: Request) -> None:
    """415 `UNSUPPORTED_MEDIA_TYPE` unless the body is declared JSON. Besides being honest,
    this keeps JSON routes out of CORS "simple requests": `text/plain` is a type any web page
    may POST cross-origin without asking (no preflight); `application/json` is not."""
    if not is_json(request.headers.get("content-type")):
        raise BadRequest("send the body as JSON (Content-Type: application/json)", status=415,
                         code="UNSUPPORTED_MEDIA_TYPE", field="Content-Type", headers=dict(CLOSE))


async def read_json(request: Request, model: type[M], *, bodies: Bodies, max_bytes: int = JSON_MAX_BYTES) -> M:
    require_json(request)
    body = await bodies.reader(request, max_bytes).read()
    return parse_json(body, model)


def parse_json(body: bytes, model: type[M]) -> M:
    if not body.strip():
        raise BadRequest("a JSON object body is required", field="body")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise refusal(exc, body=body) from None


def read_query(request: Request, model: type[M]) -> M:
    values = {key: value for key, value in request.query_params.items() if value.strip()}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise refusal(exc, root="query") from None


def read_path(request: Request, model: type[M]) -> M:
    try:
        return model.model_validate(request.path_params)
    except ValidationError as exc:
        raise refusal(exc, root="path") from None


def validate(model: type[M], value: Any, *, root: str = "body", prefix: str = "") -> M:
    """Python-mode validation (a dict already parsed) with the same refusals."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise refusal(exc, root=root, prefix=prefix) from None


# -- refusals ------------------------------------------------------------------------------------

_PHRASES: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "string_type": "must be a string",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "has the wrong form",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "too_long": "takes at most {max_length} items",
    "too_short": "needs at least {min_length} items",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "literal_error": "must be one of: {expected}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be greater than {gt}",
    "less_than": "must be less than {lt}",
}


def path_of(loc: tuple[Any, ...], *, prefix: str = "") -> str:
    """`("products", 3, "price")` -> "products.3.price" (a dict key's own error: its key)."""
    return prefix + ".".join(str(part) for part in loc if part != "[key]")


def phrase(error: ErrorDetails) -> str:
    """What is wrong, without the field's name: "must be at most 512 characters"."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else f"must be at least {ctx.get('min_length')} characters"
    template = _PHRASES.get(kind)
    if template is None:  # our own errors (fields.fail) carry their phrase; others: pydantic's words
        message = error["msg"]
        return message if kind not in _BUILTIN else message[:1].lower() + message[1:]
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return error["msg"]


_BUILTIN = frozenset(_PHRASES) | {"json_invalid", "json_type", "value_error", "assertion_error", "union_tag_invalid",
                                  "union_tag_not_found", "date_parsing", "url_parsing"}


def refusal(exc: ValidationError, *, root: str = "body", prefix: str = "", body: bytes | None = None) -> BadRequest:
    """The first problem (in field order) as a 400 naming its field."""
    error = exc.errors(include_url=False, include_input=False)[0]
    if error["type"] == "json_invalid":
        return _invalid_json(error, body)
    field = path_of(error["loc"], prefix=prefix) or root
    if not error["loc"] and error["type"] in ("model_type", "dict_type"):
        message = f"{root} must be a JSON object" if root == "body" else f"{root} must be an object"
    else:
        message = f"{field} {phrase(error)}"
    return BadRequest(message, field=field)


def _invalid_json(error: ErrorDetails, body: bytes | None) -> BadRequest:
    detail = str((error.get("ctx") or {}).get("error", error["msg"]))
    if "recursion limit" in detail:
        return BadRequest("body is nested too deeply (JSON nested past 200 levels)", field="body")
    located = _lone_surrogate(body) if "surrogate" in detail or "escape" in detail else None
    if located is not None:
        return BadRequest(f"{located or 'body'} must not contain lone surrogates (it is not valid Unicode text)",
                          field=located or "body")
    return BadRequest(f"body is not valid JSON ({detail})", field="body")


def _lone_surrogate(body: bytes | None) -> str | None:
    """Where the first lone surrogate is, as a field path ("" for the root), when the strict
    parser refused one: Python's parser takes them, so the body is read again with it, only
    on this error path. None when that parser fails too (the body is not JSON for it either)."""
    if body is None:
        return None
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    stack: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return path_of(path)
        elif isinstance(item, dict):
            for key in reversed(list(item)):
                try:
                    key.encode("utf-8")
                except UnicodeEncodeError:
                    return path_of((*path, key.encode("utf-8", "backslashreplace").decode()))
                stack.append(((*path, key), item[key]))
        elif isinstance(item, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(item))))
    return None
