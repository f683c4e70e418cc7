"""One streaming endpoint = one `StreamEndpoint`: how to validate a request, and the async
generator that produces its events. From it come both routes, the SSE stream and its JSON
twin, each behind the shared rate limiter.

    SEARCH = StreamEndpoint("search", parse=parse_search, produce=search_events)
    routes = stream_routes(SEARCH, platform, stream_path="/api/products/search/stream",
                           json_path="/api/products/search", methods=["GET"])

Order of checks for a stream: streaming enabled -> rate limit -> resume (`Last-Event-ID`) or
validation (4xx JSON before any stream) -> concurrent-stream cap -> the stream.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.errors import error_response
from app.streams import wire
from app.streams.engine import StreamContext, new_stream_id, run_stream
from app.streams.events import Code, Event, StreamError
from app.streams.fold import fold
from app.streams.response import EventStreamResponse, ReplayResponse

if TYPE_CHECKING:
    from app.platform import Platform

log = logging.getLogger("storestream.streams")

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class StreamEndpoint(Generic[P]):
    name: str
    parse: Callable[[Request], Awaitable[P]]  # raises app.errors.BadRequest
    produce: Callable[[P, StreamContext], AsyncIterator[Event]]
    # Projection of the folded document for the JSON twin (pure: it sees only the fold).
    shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Extra fields for `connected` (e.g. the echoed query), from the parsed params.
    context: Callable[[P], dict[str, Any]] | None = None


async def _expired(ctx: StreamContext) -> AsyncIterator[Event]:
    raise StreamError(
        Code.STREAM_EXPIRED,
        "That stream can no longer be resumed; start a new request",
        retryable=False,
    )
    yield  # pragma: no cover - makes this an async generator


def _platform(request: Request) -> Platform:
    return request.app.state.platform


def sse_endpoint(spec: StreamEndpoint[Any]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        platform = _platform(request)
        settings = platform.settings
        limiter = platform.limiter
        client = limiter.client(request)

        if request.method == "HEAD":  # headers only; never opens a stream
            return Response(headers={k.decode(): v.decode() for k, v in wire.HEADERS})

        last_event_id = request.headers.get("last-event-id", "").strip()
        resume = wire.parse_event_id(last_event_id) if last_event_id else None
        held = await platform.replay.read(*resume) if resume else None
        params: Any = None
        if not last_event_id:
            params = await spec.parse(request)

        if not limiter.slots.acquire(client):
            return limiter.too_many_streams(request)

        def release() -> None:
            limiter.slots.release(client)

        if held is not None and resume is not None:
            return ReplayResponse(
                platform.replay,
                resume[0],
                resume[1],
                held,
                timeout_s=settings.streaming_timeout / 1000,
                on_close=release,
            )

        ctx = StreamContext(stream=spec.name, stream_id=new_stream_id(), client=client)
        if last_event_id:
            producer = _expired
            context: dict[str, Any] = {}
        else:
            producer = lambda c: spec.produce(params, c)  # noqa: E731
            context = spec.context(params) if spec.context else {}
        return EventStreamResponse(
            producer,
            ctx,
            replay=platform.replay,
            metrics=platform.metrics,
            timeout_s=settings.streaming_timeout / 1000,
            ping_s=settings.streaming_ping_s,
            retry_ms=settings.streaming_retry_ms,
            chunk_size=settings.streaming_chunk_size,
            connected_context=context,
            on_close=release,
        )

    return endpoint


def json_endpoint(spec: StreamEndpoint[Any]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        platform = _platform(request)
        settings = platform.settings
        params = await spec.parse(request)
        ctx = StreamContext(
            stream=spec.name, stream_id=new_stream_id(), client=platform.limiter.client(request)
        )
        events: list[Event] = []

        async def collect(event: Event) -> None:
            events.append(event)

        outcome = await run_stream(
            lambda c: spec.produce(params, c),
            ctx,
            collect,
            timeout_s=settings.streaming_timeout / 1000,
            chunk_size=settings.streaming_chunk_size,
            connected_context=spec.context(params) if spec.context else None,
        )
        status, doc = fold(events)
        log.info("%s json outcome=%s events=%d duration_ms=%.1f", ctx.tag, outcome, len(events), ctx.elapsed_ms())
        return JSONResponse(spec.shape(doc) if spec.shape else doc, status_code=status)

    return endpoint


def stream_routes(
    spec: StreamEndpoint[Any],
    platform: Platform,
    *,
    stream_path: str,
    json_path: str | None,
    methods: Sequence[str],
) -> list[Route]:
    """The SSE route and (optionally) its JSON twin, both drawing on the shared budget."""
    stream = _when_enabled(platform.limiter.guard(f"{spec.name}_stream", sse_endpoint(spec)))
    routes = [Route(stream_path, stream, methods=list(methods), name=f"{spec.name}_stream")]
    if json_path is not None:
        twin = platform.limiter.guard(f"{spec.name}_json", json_endpoint(spec))
        routes.append(Route(json_path, twin, methods=list(methods), name=f"{spec.name}_json"))
    return routes


def _when_enabled(
    endpoint: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def gated(request: Request) -> Response:
        if not _platform(request).settings.streaming_enabled:
            return error_response(
                404,
                "Streaming is disabled on this server; use the JSON endpoint",
                Code.STREAMING_DISABLED,
            )
        return await endpoint(request)

    return gated

