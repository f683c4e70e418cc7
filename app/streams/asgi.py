"""Stream routes served straight from the top of the app, below Starlette's middleware stack.

A stream holds its request for as long as it runs, and with it every frame of the ASGI
chain it was dispatched through: Starlette's ServerErrorMiddleware, ExceptionMiddleware,
Router, Route and two exception-handling wrappers hold about 5.6 KB of coroutine frames per
open stream (tracemalloc, docs/benchmarks.md "Stream engine"), a quarter of an idle stream's cost. So
`StreamRoutes` answers the SSE routes itself (exact path, one of the route's methods) and
hands everything else (JSON twins, pages, preflights, other methods) to the usual stack.

What the skipped layers did for these routes is done here: `request.app` is the app (set by
Starlette before the stack runs), exceptions go through the app's own exception handlers
(most recent class first, as Starlette does), a handler-less failure is a JSON 500 without
internals, CORS for public routes is applied by the same `PublicCORS` the stack uses, and a
request the server cancels to exit gets its 503 as `AnswerWhenCancelled` gives the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.cors import PublicCORS
from app.errors import error_response
from app.shutdown import AnswerWhenCancelled

log = logging.getLogger("storestream.http")

Endpoint = Callable[[Request], Awaitable[Response]]


class StreamRoutes:
    def __init__(
        self,
        app: ASGIApp,
        routes: Iterable[Route],
        *,
        exception_handlers: Mapping[Any, Callable[..., Any]],
        closing: Callable[[], bool],
        cors_origins: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.closing = closing
        self.routes: dict[str, tuple[frozenset[str], Endpoint]] = {
            route.path: (frozenset(route.methods or ()), route.endpoint) for route in routes
        }
        self.exception_handlers = exception_handlers
        self.serve: ASGIApp = PublicCORS(self._serve, cors_origins) if cors_origins else self._serve

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self.routes.get(scope["path"])
            if found is not None and scope["method"] in found[0]:
                scope["endpoint"] = found[1]
                await self.serve(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response = await scope["endpoint"](request)
        except asyncio.CancelledError:  # the shutdown grace ran out while the body was read
            if not self.closing():
                raise
            await AnswerWhenCancelled.answer(send, started=False)
            return
        except Exception as exc:  # noqa: BLE001 - every failure is a JSON answer
            response = await self._handled(request, exc)
        try:
            await response(scope, receive, send)
        except asyncio.CancelledError:  # the stream itself was ended by the shutdown already
            if not self.closing():
                raise
            await AnswerWhenCancelled.answer(send, started=True)

    async def _handled(self, request: Request, exc: Exception) -> Response:
        return await handled(self.exception_handlers, request, exc)


async def handled(handlers: Mapping[Any, Callable[..., Any]], request: Request, exc: Exception) -> Response:
    """The app's answer to `exc`: its handler (most recent class first, as Starlette does), or
    a JSON 500 without internals."""
    for cls in type(exc).__mro__:
        handler = handlers.get(cls)
        if handler is not None and cls is not Exception:
            return await handler(request, exc)
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "Internal error", "INTERNAL_ERROR")
