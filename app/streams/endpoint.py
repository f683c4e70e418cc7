"""One streaming endpoint = one `StreamEndpoint`: who may call it, how to validate a request,
and the async generator that produces its events. From it come both routes, the SSE stream
and its JSON twin, each behind the shared rate limiter.

    SEARCH = StreamEndpoint("search", parse=parse_search, produce=search_events)
    routes = stream_routes(SEARCH, platform, stream_path="/api/products/search/stream",
                           json_path="/api/products/search", methods=["GET"])

A new stream: streaming enabled -> rate limit -> authentication -> concurrent-stream cap ->
validation (4xx JSON before any stream) -> a `Run` (app/streams/runs.py) read by this
connection.

A resume (`Last-Event-ID`, app/streams/resume.py): streaming enabled -> authentication,
exactly as for a new request -> the id must name a stream of this route (and client, when
bound) -> nothing left to send: 204, free -> rate limit -> the frames after the id (from the
run itself when it runs here, else from the replay buffer, following it while it runs on
another instance). The request's other parameters are not read again: a resume continues
the stream they started (reading a chat body again would store the question twice). A
resume takes no concurrent-stream slot: the stream it continues holds one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.errors import BadRequest, error_response
from app.redis_link import Unavailable
from app.streams import wire
from app.streams.engine import StreamContext, run_stream
from app.streams.events import EVENT_TYPES, Code, Event
from app.streams.fold import fold
from app.streams.response import LiveResponse, ReplayResponse
from app.streams.resume import Binding, ResumePoint, may_resume, new_token, parse_last_event_id, stream_id_of
from app.streams.runs import Run

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
    # Who may call it (raises BadRequest 401/403): run for new requests, resumes and stops.
    authorize: Callable[[Request], None] | None = None
    # Keep running after the client leaves (STREAM_DETACH_S), for work that is costly to
    # repeat and whose result the client wants (an answer, an upload). False: cancel at once.
    detach: bool = False
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


def _platform(request: Request) -> Platform:
    return request.app.state.platform


def _expired() -> BadRequest:
    return BadRequest("That stream can no longer be resumed; start a new request", status=410,
                      code=Code.STREAM_EXPIRED, field="Last-Event-ID")


def resume_point(raw: str) -> ResumePoint:
    """The `Last-Event-ID` header as a ResumePoint, or a 400 naming it."""
    point = parse_last_event_id(raw)
    if point is None:
        raise BadRequest("Last-Event-ID is not an event id this server sent", field="Last-Event-ID")
    return point


def sse_endpoint(spec: StreamEndpoint[Any]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        platform = _platform(request)
        if request.method == "HEAD":  # headers only; never opens a stream
            return Response(headers={k.decode(): v.decode() for k, v in wire.HEADERS})
        if platform.runs.closing:
            return error_response(503, "The server is shutting down; reconnect shortly",
                                  Code.SERVER_SHUTTING_DOWN, headers={"Retry-After": "2"})
        last_event_id = request.headers.get("last-event-id", "").strip()
        if last_event_id:
            return await _resume(spec, platform, request, last_event_id)
        return await _open(spec, platform, request)

    return endpoint


async def _open(spec: StreamEndpoint[Any], platform: Platform, request: Request) -> Response:
    settings = platform.settings
    limiter = platform.limiter
    client = limiter.client(request)
    if spec.authorize is not None:
        spec.authorize(request)
    try:
        release = await limiter.take_slot(client)
    except Unavailable:  # the cap lives in Redis, which is unreachable: fail closed
        return limiter.unavailable()
    if release is None:
        return limiter.too_many_streams(request)
    try:
        params = await spec.parse(request)
    except BaseException:
        release()
        raise
    token = new_token()
    ctx = StreamContext(stream=spec.name, stream_id=stream_id_of(token), client=client, platform=platform)
    run = Run(
        partial(spec.produce, params),
        ctx,
        token=token,
        binding=Binding(spec.name, client),
        replay=platform.replay,
        signals=platform.signals,
        timeout_s=spec.deadline(settings),
        chunk_size=settings.streaming_chunk_size,
        retry_ms=settings.streaming_retry_ms,
        detach_s=settings.stream_detach_s if spec.detach else None,
        max_events=settings.stream_replay_events,
        max_bytes=settings.stream_replay_bytes,
        connected_context=spec.context(params) if spec.context else None,
        path=request.scope["path"],
    )
    platform.runs.start(run, release)
    return LiveResponse(run, run.attach(0), runs=platform.runs, ping_s=settings.streaming_ping_s)


async def _resume(spec: StreamEndpoint[Any], platform: Platform, request: Request, raw: str) -> Response:
    """Everything but a resume with nothing left to send is charged to the budget, refusals
    included (probing for streams is not free)."""
    try:
        serve = await _find(spec, platform, request, raw)
    except BadRequest:
        refusal = await platform.limiter.charge(request)
        if refusal is not None:
            return refusal
        raise
    if serve is None:
        return Response(status_code=204)
    refusal = await platform.limiter.charge(request)
    if refusal is not None:
        return refusal
    return serve()


async def _find(
    spec: StreamEndpoint[Any], platform: Platform, request: Request, raw: str
) -> Callable[[], Response] | None:
    """What resumes the stream `raw` names (called once the request is charged), or None
    when nothing is left to send; BadRequest: 401/403 as for a new request, 400 malformed,
    410 not resumable here by this caller."""
    if spec.authorize is not None:
        spec.authorize(request)
    settings = platform.settings
    point = resume_point(raw)
    client = platform.limiter.client(request)
    bind_client = settings.stream_resume_bind_client
    run = platform.runs.get(point.stream_id)
    if run is not None and may_resume(run.binding, spec.name, client, bind_client=bind_client) \
            and run.can_resume(point.seq):
        if run.exhausted(point.seq):
            return None
        live = run
        return lambda: LiveResponse(live, live.attach(point.seq), runs=platform.runs,
                                    ping_s=settings.streaming_ping_s)
    held = await platform.replay.read(point.stream_id, point.seq)
    if held is None or not may_resume(held.binding, spec.name, client, bind_client=bind_client):
        raise _expired()
    if held.finished and not held.frames:
        return None
    return lambda: ReplayResponse(platform.replay, platform.signals, point, held, runs=platform.runs,
                                  timeout_s=spec.deadline(settings), ping_s=settings.streaming_ping_s)


def json_endpoint(spec: StreamEndpoint[Any]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        platform = _platform(request)
        settings = platform.settings
        if spec.authorize is not None:
            spec.authorize(request)
        params = await spec.parse(request)
        ctx = StreamContext(
            stream=spec.name,
            stream_id=stream_id_of(new_token()),
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


class StreamRoute(Route):
    """The SSE route of a `StreamEndpoint`: served below Starlette's middleware stack
    (app/streams/asgi.py), since it holds its request open for as long as the stream runs."""


def stream_routes(
    spec: StreamEndpoint[Any],
    platform: Platform,
    *,
    stream_path: str,
    json_path: str | None,
    methods: Sequence[str],
) -> list[Route]:
    """The SSE route and (optionally) its JSON twin, both drawing on the shared budget."""
    platform.stream_endpoints[spec.name] = spec  # the stop route authorizes by the stream's route
    stream = _when_enabled(platform.limiter.guard(f"{spec.name}_stream", sse_endpoint(spec), deferred=_is_resume))
    stream.__openapi__ = _describe(spec, methods, streaming=True)  # type: ignore[attr-defined]
    routes: list[Route] = [StreamRoute(stream_path, stream, methods=list(methods), name=f"{spec.name}_stream")]
    if json_path is not None:
        twin = platform.limiter.guard(f"{spec.name}_json", json_endpoint(spec))
        twin.__openapi__ = _describe(spec, methods, streaming=False)  # type: ignore[attr-defined]
        routes.append(Route(json_path, twin, methods=list(methods), name=f"{spec.name}_json"))
    return routes


def _is_resume(request: Request) -> bool:
    return bool(request.headers.get("last-event-id", "").strip())


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
                 "404": {"description": "STREAMING_DISABLED: use the JSON twin"},
                 "410": {"description": "STREAM_EXPIRED: Last-Event-ID names no stream this route "
                                        "can resume for this caller"}}
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
             "schema": {"type": "string"},
             "description": "resume after this event (docs/events.md, 'Resuming')"}
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

