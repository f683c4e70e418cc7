"""HTTP errors before a stream starts: always a JSON body naming the problem, never a stack trace.

Body shape, for every 4xx/5xx the app sends: `{"status", "error", "code", ...}` (plus
`field` when one parameter is at fault).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import Field
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException
from starlette.requests import Request

from app.contracts.fields import Absent, Payload
from app.responses import JSONResponse

if TYPE_CHECKING:
    from app.store.state import DatabaseState

T = TypeVar("T")

log = logging.getLogger("storestream.http")

ExceptionHandler = Callable[[Request, Exception], Awaitable[JSONResponse]]


class ErrorBody(Payload):
    """Every refusal: 4xx (and 503) JSON, never a stack trace."""

    status: int = Field(description="the HTTP status, again")
    error: str = Field(description="what is wrong, in words")
    code: str = Field(pattern=r"^[A-Z][A-Z_]*$", description="stable; clients branch on it (docs/events.md)")
    field: str = Absent("the parameter at fault: a dotted path (`customer.budget`, "
                       "`products.3.price`), or `body`, `Content-Type`, `Last-Event-ID`...")


class BadRequest(Exception):
    """Refuse a request before any stream starts."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        status: int = 400,
        code: str = "INVALID_PARAMETERS",
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
        self.code = code
        self.headers = headers
        self.extra = extra  # more fields for the body (the catalog's row errors)


def not_found(message: str, field: str) -> BadRequest:
    """404 `NOT_FOUND`, naming the parameter that named nothing."""
    return BadRequest(message, status=404, code="NOT_FOUND", field=field)


def found(value: T | None, message: str, field: str) -> T:
    """`value` (a record looked up by `field`), or 404 `NOT_FOUND` when there is none."""
    if value is None:
        raise not_found(message, field)
    return value


def error_response(
    status: int, message: str, code: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"status": status, "error": message, "code": code, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def bad_request_response(exc: BadRequest) -> JSONResponse:
    extra = {"field": exc.field} if exc.field else {}
    return error_response(exc.status, exc.message, exc.code, exc.headers, **extra, **(exc.extra or {}))


async def bad_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BadRequest)
    return bad_request_response(exc)


_HTTP_CODES = {
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


async def http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    return error_response(exc.status_code, str(exc.detail), code, exc.headers)


def database_unavailable(state: DatabaseState | None) -> ExceptionHandler:
    """Any route that met an unreachable database (PyMongo's `ConnectionFailure` family, or
    `DatabaseUnavailable` while an outage is known): 503 `DB_UNAVAILABLE` with `Retry-After`,
    never a 500. Not logged per request: the database's state logs the outage once
    (app/store/state.py), and is asked to check the database now."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        retry_after = 5
        if state is not None:
            state.suspect()
            retry_after = state.retry_after_s
        return error_response(503, "The database is unavailable; try again shortly", "DB_UNAVAILABLE",
                              headers={"Retry-After": str(retry_after)})

    return handler


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "Internal error", "INTERNAL_ERROR")


def exception_handlers(db: DatabaseState | None) -> dict[Any, ExceptionHandler]:
    """The app's handlers; `db` is told of connection failures (None: no database)."""
    return {
        BadRequest: bad_request,
        HTTPException: http_exception,
        ConnectionFailure: database_unavailable(db),  # and every subclass: AutoReconnect, timeouts...
        Exception: unexpected,
    }
