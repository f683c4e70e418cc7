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
from app.redis_link import Unavailable
from app.streams import wire
from app.streams.engine import StreamContext, new_stream_id, run_stream
from app.streams.events import EVENT_TYPES, Code, Event, StreamError
from app.streams.fold import fold
from app.streams.response import EventStreamResponse, ReplayResponse

if TYPE_CHECKING:
    from app.platform import Platform
    from config.settings import Settings

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
    # For /openapi.json: a summary, OpenAPI `parameters`, a JSON `requestBody` schema and the
    # event order the endpoint promises.
    summary: str = ""
    parameters: tuple[dict[str, Any], ...] = ()
    request_body: dict[str, Any] | None = None
    events: tuple[str, ...] = ()
    # Seconds this endpoint's streams may run; None: STREAMING_TIMEOUT. (An upload that
    # embeds thousands of chunks needs minutes; a search needs milliseconds.)
    timeout_s: Callable[[Settings], float] | None = None

    def deadline(self, settings: Settings) -> float:
        return self.timeout_s(settings) if self.timeout_s else settings.streaming_timeout / 1000


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
        if platform.open_streams.closing:
            return error_response(503, "The server is shutting down; reconnect shortly",
                                  Code.SERVER_SHUTTING_DOWN, headers={"Retry-After": "2"})

        last_event_id = request.headers.get("last-event-id", "").strip()
        resume = wire.parse_event_id(last_event_id) if last_event_id else None
        held = await platform.replay.read(*resume) if resume else None
        params: Any = None
        if not last_event_id:
            params = await spec.parse(request)

        try:
            release = await limiter.take_slot(client)
        except Unavailable:  # the cap lives in Redis, which is unreachable: fail closed
            return limiter.unavailable()
        if release is None:
            return limiter.too_many_streams(request)

        if held is not None and resume is not None:
            return ReplayResponse(
                platform.replay,
                resume[0],
                resume[1],
                held,
                timeout_s=spec.deadline(settings),
                on_close=release,
            )

        ctx = StreamContext(stream=spec.name, stream_id=new_stream_id(), client=client, platform=platform)
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
            timeout_s=spec.deadline(settings),
            ping_s=settings.streaming_ping_s,
            retry_ms=settings.streaming_retry_ms,
            chunk_size=settings.streaming_chunk_size,
            connected_context=context,
            on_close=release,
            open_streams=platform.open_streams,
        )

    return endpoint


def json_endpoint(spec: StreamEndpoint[Any]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        platform = _platform(request)
        settings = platform.settings
        params = await spec.parse(request)
        ctx = StreamContext(
            stream=spec.name,
            stream_id=new_stream_id(),
            client=platform.limiter.client(request),
            platform=platform,
        )
        events: list[Event] = []

        async def collect(event: Event) -> None:
            events.append(event)

        outcome = await run_stream(
            lambda c: spec.produce(params, c),
            ctx,
            collect,
            timeout_s=spec.deadline(settings),
            chunk_size=settings.streaming_chunk_size,
            connected_context=spec.context(params) if spec.context else None,
        )
        status, doc = fold(events)
        duration_ms = ctx.elapsed_ms()
        log.info(
            "%s json outcome=%s events=%d duration_ms=%.1f", ctx.tag, outcome, len(events), duration_ms,
            extra={"event": "stream_end", "transport": "json", "stream": ctx.stream,
                   "stream_id": ctx.stream_id, "route": request.url.path, "client": ctx.client,
                   "outcome": outcome, "events": len(events), "duration_ms": round(duration_ms, 1)},
        )
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
    stream.__openapi__ = _describe(spec, methods, streaming=True)  # type: ignore[attr-defined]
    routes = [Route(stream_path, stream, methods=list(methods), name=f"{spec.name}_stream")]
    if json_path is not None:
        twin = platform.limiter.guard(f"{spec.name}_json", json_endpoint(spec))
        twin.__openapi__ = _describe(spec, methods, streaming=False)  # type: ignore[attr-defined]
        routes.append(Route(json_path, twin, methods=list(methods), name=f"{spec.name}_json"))
    return routes


_REFUSALS = {
    "400": {"description": "invalid parameters (JSON body names the field); no stream starts"},
    "429": {"description": "RATE_LIMITED or TOO_MANY_STREAMS, with Retry-After"},
}


def _describe(spec: StreamEndpoint[Any], methods: Sequence[str], *, streaming: bool) -> dict[str, Any]:
    if streaming:
        events = [{"$ref": f"#/components/schemas/{name.capitalize()}Event"} for name in EVENT_TYPES]
        ok = {
            "description": "a Server-Sent Events stream (docs/events.md)",
            "content": {"text/event-stream": {"schema": {"oneOf": events}}},
        }
        extra = {"204": {"description": "Last-Event-ID of a finished stream: nothing to replay"},
                 "404": {"description": "STREAMING_DISABLED: use the JSON twin"}}
    else:
        ok = {"description": "the stream folded into one JSON document (docs/events.md)"}
        extra = {"503": {"description": "DB_UNAVAILABLE"}, "504": {"description": "STREAM_TIMEOUT"}}
    operation: dict[str, Any] = {
        "summary": spec.summary + ("" if streaming else " (JSON)"),
        "parameters": list(spec.parameters),
        "responses": {"200": ok, **_REFUSALS, **extra},
    }
    if streaming:
        operation["parameters"].append(
            {"name": "Last-Event-ID", "in": "header", "required": False,
             "schema": {"type": "string"}, "description": "resume after this event"}
        )
        operation["x-events"] = list(spec.events)
    if spec.request_body is not None:
        operation["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": spec.request_body}}
        }
    return {method.lower(): operation for method in methods}


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

