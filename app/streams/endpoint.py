"""One streaming endpoint = one `StreamEndpoint`: who may call it, how to validate a request,
and the async generator that produces its events. From it come both routes, the SSE stream
and its JSON twin, each behind the shared rate limiter.

    SEARCH = StreamEndpoint("search", parse=parse_search, produce=search_events)
    routes = stream_routes(SEARCH, streams, stream_path="/api/products/search/stream",
                           json_path="/api/products/search", methods=["GET"])

A new stream: streaming enabled -> rate limit -> authentication -> concurrent-stream cap ->
validation (4xx JSON before any stream) -> a `Run` (app/streams/runs.py) read by this
connection.

Validation: an endpoint declares its query parameters (`query=`) or its JSON body (`body=`)
as a model (app/contracts/); the request is read into it first (415, 413, 408 and 400 naming
the field), and `parse(request, args)` gets the model instance. An endpoint without either
reads the request itself in `parse(request)` (the upload: multipart, declared by `form=` for
the documentation). The same declaration documents both routes in `/openapi.json`.

A protocol adapter (app/protocols/, app/routes/ai_sdk.py...) is a `StreamEndpoint` like any
other, served by the same `serve`: its body declared (`body=`, `body_limit=`), so it is read
in the same order, after the cap; `resumable=False` when its frames carry no ids (the
header is then ignored: the request is a new one, charged once); `streaming=` when one
route answers both ways (OpenAI's `stream` field: the body decides, so it is read before a
refusal of the cap or of STREAMING_ENABLED can apply; a JSON answer gives its slot back);
`started=` to record what the protocol finds the stream by (the AI SDK's chat id).

A resume (`Last-Event-ID`, app/streams/resume.py): streaming enabled -> authentication,
exactly as for a new request -> the id must name a stream of this route (and client, when
bound) -> nothing left to send: 204, free (only the holder of the stream's 128-bit token
gets this far, so it tells nobody anything; a guessable name, the AI SDK's chat id, is charged
before its lookup instead: `resume_running`) -> rate limit -> the frames after the id (from the
run itself when it runs here, else from the replay buffer, following it while it runs on
another instance). The request's other parameters are not read again: a resume continues
the stream they started (reading a chat body again would store the question twice). A
resume takes no concurrent-stream slot: the stream it continues holds one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.contracts.openapi import ApiRoute, Operation, Reply, ref
from app.contracts.reading import JSON_MAX_BYTES, read_json, read_query
from app.routes.body import Bodies
from app.errors import BadRequest, ErrorBody, error_response
from app.redis_link import Unavailable
from app.responses import JSONResponse
from app.streams import wire
from app.streams.engine import StreamContext, run_stream
from app.streams.events import EVENT_TYPES, Code, Event
from app.streams.fold import FoldedStream, StreamFailure, fold
from app.streams.schema import EVENT_MODELS, RESULT_BY_TYPE, ResultsEvent
from app.streams.replay import Replay
from app.streams.response import LiveResponse, ReplayResponse
from app.streams.resume import Binding, ResumePoint, may_resume, new_token, parse_last_event_id, stream_id_of
from app.streams.runs import Run

if TYPE_CHECKING:
    from app.streams.services import StreamServices
    from config.settings import Settings

log = logging.getLogger("storestream.streams")

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class StreamEndpoint(Generic[P]):
    name: str
    # raises app.errors.BadRequest. `parse(request, args)` when `query` or `body` is declared
    # (args: the validated model), else `parse(request)`.
    parse: Callable[..., Awaitable[P]]
    produce: Callable[[P, StreamContext], AsyncGenerator[Event, None]]
    # Projection of the folded document for the JSON twin (pure: it sees only the fold).
    shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Extra fields for `connected` (e.g. the echoed query), from the parsed params.
    context: Callable[[P], dict[str, Any]] | None = None
    # Who may call it (raises BadRequest 401/403): run for new requests, resumes and stops.
    authorize: Callable[[Request], None] | None = None
    # Keep running after the client leaves (STREAM_DETACH_S), for work that is costly to
    # repeat and whose result the client wants (an answer, an upload). False: cancel at once.
    detach: bool = False
    # The request, declared: the query-parameter model, or the JSON body model (read within
    # `body_limit` bytes); `form` documents a multipart body `parse` reads itself.
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_limit: int = JSON_MAX_BYTES
    form: type[BaseModel] | None = None
    # For /openapi.json: a summary, the event order the endpoint promises (`results:<type>`
    # entries name the results types it sends), the JSON twin's document, and refusals of
    # its own (e.g. the upload's 422).
    summary: str = ""
    description: str = ""
    events: tuple[str, ...] = ()
    answer: type[BaseModel] = FoldedStream
    refusals: dict[int, str] | None = None
    # Seconds this endpoint's streams may run; None: STREAMING_TIMEOUT. (An upload that
    # embeds thousands of chunks needs minutes; a search needs milliseconds.)
    timeout_s: Callable[[Settings], float] | None = None
    # A protocol adapter's wire (app/protocols/): each stream's frame encoder (None: our SSE,
    # docs/events.md) and the fold of its JSON twin (HTTP status, document).
    frames: Callable[[], wire.Encoder] | None = None
    folding: Callable[[list[Event]], tuple[int, dict[str, Any]]] = fold
    # Response headers a protocol's stream adds to ours (the AI SDK's `x-vercel-ai-ui-message-stream`).
    headers: tuple[tuple[bytes, bytes], ...] = ()
    # `Last-Event-ID` resumes its streams. False: a protocol whose frames carry no ids (the
    # header is ignored; the request is a new one).
    resumable: bool = True
    # One route for both answers: the validated body (or query) says whether to stream (OpenAI's
    # `stream` field), or to answer the folded document. None: it always streams.
    streaming: Callable[[Any], bool] | None = None
    # A new stream started (its token): record how the protocol finds it again (the AI SDK's
    # chat id); returns headers for the response.
    started: Callable[[P, Request, str], Awaitable[Iterable[tuple[bytes, bytes]]]] | None = None
    # A protocol's stream in /openapi.json (the items of its 200; None: our events) and the
    # route's tag.
    stream_doc: dict[str, Any] | None = None
    tag: str = "streams"
    # The body of its refusals (OpenAI's clients read OpenAI's), and what in the body asks
    # for a stream (`streaming`'s words, for the documentation).
    errors: type[BaseModel] = ErrorBody
    streamed_when: str = ""

    def deadline(self, settings: Settings) -> float:
        return self.timeout_s(settings) if self.timeout_s else settings.streaming_timeout / 1000


def _expired() -> BadRequest:
    return BadRequest("That stream can no longer be resumed; start a new request", status=410,
                      code=Code.STREAM_EXPIRED, field="Last-Event-ID")


def resume_point(raw: str) -> ResumePoint:
    """The `Last-Event-ID` header as a ResumePoint, or a 400 naming it."""
    point = parse_last_event_id(raw)
    if point is None:
        raise BadRequest("Last-Event-ID is not an event id this server sent", field="Last-Event-ID")
    return point


async def parse(spec: StreamEndpoint[P], request: Request, bodies: Bodies) -> P:
    """The request read into the endpoint's declared model, then the endpoint's own `parse`."""
    return await parsed(spec, request, await read_args(spec, request, bodies))


async def read_args(spec: StreamEndpoint[Any], request: Request, bodies: Bodies) -> BaseModel | None:
    """The declared query or JSON body, validated (None: the endpoint reads the request itself)."""
    if spec.query is not None:
        return read_query(request, spec.query)
    if spec.body is not None:
        return await read_json(request, spec.body, bodies=bodies, max_bytes=spec.body_limit)
    return None


async def parsed(spec: StreamEndpoint[P], request: Request, args: BaseModel | None) -> P:
    return await (spec.parse(request) if args is None else spec.parse(request, args))


def sse_endpoint(spec: StreamEndpoint[Any], streams: StreamServices) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if request.method == "HEAD":  # headers only; never opens a stream
            return Response(headers={k.decode(): v.decode() for k, v in wire.HEADERS})
        if streams.runs.closing:
            return error_response(503, "The server is shutting down; reconnect shortly",
                                  Code.SERVER_SHUTTING_DOWN, headers={"Retry-After": "2"})
        last_event_id = request.headers.get("last-event-id", "").strip() if spec.resumable else ""
        if last_event_id:
            return await _resume(spec, streams, request, last_event_id)
        return await _open(spec, streams, request)

    return endpoint


async def _open(spec: StreamEndpoint[Any], streams: StreamServices, request: Request) -> Response:
    settings = streams.settings
    limiter = streams.limiter
    client = limiter.client(request)
    if spec.authorize is not None:
        spec.authorize(request)
    release: Callable[[], None] | None = None
    refusal: Response | None = None
    if not settings.streaming_enabled:  # reached only by a route that may answer in JSON
        refusal = disabled()
    else:
        try:
            release = await limiter.take_slot(client)
        except Unavailable:  # the cap lives in Redis, which is unreachable: fail closed
            refusal = limiter.unavailable()
        else:
            if release is None:
                refusal = limiter.too_many_streams(request)
    if refusal is not None and spec.streaming is None:
        return refusal  # before a byte of the body is read
    try:
        args = await read_args(spec, request, streams.bodies)
        if spec.streaming is not None and not spec.streaming(args):
            if release is not None:
                release()
                release = None
            return await _fold(spec, streams, request, await parsed(spec, request, args))
        if refusal is not None or release is None:  # asked to stream, which was refused
            return refusal or limiter.too_many_streams(request)
        params = await parsed(spec, request, args)  # (stores the question: only once it may run)
    except BaseException:
        if release is not None:
            release()
        raise
    token = new_token()
    ctx = StreamContext(stream=spec.name, stream_id=stream_id_of(token), client=client)
    run = Run(
        partial(spec.produce, params),
        ctx,
        token=token,
        binding=Binding(spec.name, client),
        replay=streams.replay,
        signals=streams.signals,
        timeout_s=spec.deadline(settings),
        chunk_size=settings.streaming_chunk_size,
        retry_ms=settings.streaming_retry_ms,
        detach_s=settings.stream_detach_s if spec.detach else None,
        max_events=settings.stream_replay_events,
        max_bytes=settings.stream_replay_bytes,
        connected_context=spec.context(params) if spec.context else None,
        path=request.scope["path"],
        encode=spec.frames() if spec.frames is not None else wire.encode,
    )
    streams.runs.start(run, release)
    headers = list(spec.headers)
    if spec.started is not None:
        headers.extend(await spec.started(params, request, token))
    return LiveResponse(run, run.attach(0), runs=streams.runs, ping_s=settings.streaming_ping_s, headers=headers)


async def _resume(spec: StreamEndpoint[Any], streams: StreamServices, request: Request, raw: str) -> Response:
    """Everything but a resume with nothing left to send is charged to the budget, refusals
    included (probing for streams is not free)."""
    try:
        serve = await _find(spec, streams, request, raw)
    except BadRequest:
        refusal = await streams.limiter.charge(request)
        if refusal is not None:
            return refusal
        raise
    if serve is None:
        return Response(status_code=204)
    refusal = await streams.limiter.charge(request)
    if refusal is not None:
        return refusal
    return serve()


async def _find(
    spec: StreamEndpoint[Any], streams: StreamServices, request: Request, raw: str
) -> Callable[[], Response] | None:
    """What resumes the stream `raw` names (called once the request is charged), or None
    when nothing is left to send; BadRequest: 401/403 as for a new request, 400 malformed,
    410 not resumable here by this caller."""
    if spec.authorize is not None:
        spec.authorize(request)
    point = resume_point(raw)
    found = await _resumable(spec, streams, request, point)
    if found is None:
        raise _expired()
    if found.exhausted(point.seq) if isinstance(found, Run) else found.finished and not found.frames:
        return None
    return _serve(spec, streams, point, found)


async def resume_running(spec: StreamEndpoint[Any], streams: StreamServices, request: Request,
                         token: str | None) -> Response:
    """A protocol's resume that reads a stream again from its start while it runs (the AI
    SDK's `GET .../{chatId}/stream`: its client rebuilds the message from `start`), the
    stream named by its token as the route found it. The checks of `_find` (authentication,
    this route, this client when bound), but every failure, an ended stream and one whose
    first frames were dropped alike are 204, "nothing to resume": that protocol has no other
    answer for it, and so nobody learns whether a stream that is not theirs exists. The route
    charges the budget before the lookup, 204 included: what names the stream there (a chat
    id) may be guessed, unlike a token."""
    if request.method == "HEAD":  # headers only: a HEAD never takes a stream from its reader
        return Response(headers={k.decode(): v.decode() for k, v in (*wire.HEADERS, *spec.headers)})
    if spec.authorize is not None:
        spec.authorize(request)
    point = ResumePoint(token or "", 0)
    found = await _resumable(spec, streams, request, point) if token else None
    if found is None or (found.ended if isinstance(found, Run) else found.finished):
        return Response(status_code=204)
    return _serve(spec, streams, point, found)()


async def _resumable(
    spec: StreamEndpoint[Any], streams: StreamServices, request: Request, point: ResumePoint
) -> Run | Replay | None:
    """The stream `point` names, if this caller may resume it from there: its run here, or
    what the replay buffer holds of it; None otherwise."""
    client = streams.limiter.client(request)
    bind_client = streams.settings.stream_resume_bind_client
    run = streams.runs.get(point.stream_id)
    if run is not None and may_resume(run.binding, spec.name, client, bind_client=bind_client) \
            and run.can_resume(point.seq):
        return run
    held = await streams.replay.read(point.stream_id, point.seq)
    if held is None or not may_resume(held.binding, spec.name, client, bind_client=bind_client):
        return None
    return held


def _serve(spec: StreamEndpoint[Any], streams: StreamServices, point: ResumePoint,
           found: Run | Replay) -> Callable[[], Response]:
    settings = streams.settings
    if isinstance(found, Run):
        live = found
        return lambda: LiveResponse(live, live.attach(point.seq), runs=streams.runs,
                                    ping_s=settings.streaming_ping_s, headers=list(spec.headers))
    return lambda: ReplayResponse(streams.replay, streams.signals, point, found, runs=streams.runs,
                                  timeout_s=spec.deadline(settings), ping_s=settings.streaming_ping_s,
                                  headers=list(spec.headers))


def json_endpoint(spec: StreamEndpoint[Any], streams: StreamServices) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if spec.authorize is not None:
            spec.authorize(request)
        return await _fold(spec, streams, request, await parse(spec, request, streams.bodies))

    return endpoint


async def _fold(spec: StreamEndpoint[Any], streams: StreamServices, request: Request, params: Any) -> Response:
    """The stream run to its end in this request and folded into one document."""
    settings = streams.settings
    ctx = StreamContext(
        stream=spec.name,
        stream_id=stream_id_of(new_token()),
        client=streams.limiter.client(request),
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
    status, doc = spec.folding(events)
    duration_ms = ctx.elapsed_ms()
    log.info(
        "%s json outcome=%s events=%d duration_ms=%.1f", ctx.tag, outcome, len(events), duration_ms,
        extra={"event": "stream_end", "transport": "json", "stream": ctx.stream,
               "stream_id": ctx.stream_id, "route": request.url.path, "client": ctx.client,
               "outcome": outcome, "events": len(events), "duration_ms": round(duration_ms, 1)},
    )
    return JSONResponse(spec.shape(doc) if spec.shape else doc, status_code=status)


class StreamRoute(ApiRoute):
    """The SSE route of a `StreamEndpoint`: served below Starlette's middleware stack
    (app/streams/asgi.py), since it holds its request open for as long as the stream runs;
    documented like any `ApiRoute`."""


def stream_routes(
    spec: StreamEndpoint[Any],
    streams: StreamServices,
    *,
    stream_path: str,
    json_path: str | None,
    methods: Sequence[str],
) -> list[Route]:
    """The SSE route and (optionally) its JSON twin, both drawing on the shared budget."""
    stream = serve(spec, streams)
    routes: list[Route] = [StreamRoute(stream_path, stream, methods=list(methods), name=f"{spec.name}_stream",
                                       operation=describe(spec, streaming=True))]
    if json_path is not None:
        twin = streams.limiter.guard(f"{spec.name}_json", json_endpoint(spec, streams))
        routes.append(ApiRoute(json_path, twin, methods=list(methods), name=f"{spec.name}_json",
                               operation=describe(spec, streaming=False)))
    return routes


def serve(spec: StreamEndpoint[Any], streams: StreamServices) -> Callable[[Request], Awaitable[Response]]:
    """`spec`'s stream as every route and adapter serves it: streaming enabled (unless the
    route may answer in JSON: `streaming`) -> the rate limit (a resume charges itself, once it
    knows what it is) -> `sse_endpoint`. Registered by name: the stop route authorizes a
    stream by the endpoint that opened it."""
    streams.endpoints[spec.name] = spec
    guarded = streams.limiter.guard(f"{spec.name}_stream", sse_endpoint(spec, streams),
                                    deferred=_is_resume if spec.resumable else None)
    return guarded if spec.streaming is not None else when_enabled(guarded, streams.settings)


def _is_resume(request: Request) -> bool:
    return bool(request.headers.get("last-event-id", "").strip())


# -- the documentation of both routes, from the spec ----------------------------------------------

LAST_EVENT_ID = {
    "name": "Last-Event-ID", "in": "header", "required": False,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{32}-[0-9]{1,9}$"},
    "description": "resume after this event (`<token>-<seq>`, an id this stream sent; docs/events.md, 'Resuming')",
}
RATE_HEADERS = {"X-RateLimit-Limit": "requests per window", "X-RateLimit-Remaining": "left in this window",
                "X-RateLimit-Reset": "when the window frees a request (Unix seconds)"}


def data_lines(description: str) -> dict[str, Any]:
    """A protocol's stream (`stream_doc`) in /openapi.json: items of one `data:` line each."""
    return {"description": description, "type": "object", "required": ["data"],
            "properties": {"data": {"type": "string"}}}


def _kinds(spec: StreamEndpoint[Any]) -> tuple[list[str], list[str]]:
    """The event types and the results types the endpoint's `events` name ("results:chunks",
    "progress:tool*", "audio*"...); the engine's own events are always possible."""
    kinds = {"connected", "error", "complete", "close"}
    results: list[str] = []
    for entry in spec.events:
        kind, _, rest = entry.partition(":")
        kind = kind.rstrip("*?")
        kinds.add(kind)
        if kind == "results" and rest:
            name = rest.split("(")[0].rstrip("*?")
            if name not in results:
                results.append(name)
    if not spec.events:
        kinds = set(EVENT_TYPES)
    return [k for k in EVENT_TYPES if k in kinds], results


def _event_item(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One item of a stream, as OpenAPI 3.2 describes Server-Sent Events."""
    properties: dict[str, Any] = {
        "event": {"const": kind},
        "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": payload},
        "id": {"type": "string", "pattern": "^[0-9a-f]{32}-[0-9]+$"},
    }
    if kind == "connected":
        properties["retry"] = {"type": "integer", "minimum": 0}
    return {"type": "object", "required": ["event", "data", "id"], "properties": properties}


def event_stream_schema(spec: StreamEndpoint[Any]) -> dict[str, Any]:
    kinds, results = _kinds(spec)
    items = []
    for kind in kinds:
        if kind == "results" and results:
            payloads = [ref(RESULT_BY_TYPE[name]) for name in results]
            payload = payloads[0] if len(payloads) == 1 else {"oneOf": payloads}
        else:
            payload = ref(EVENT_MODELS[kind])
        items.append(_event_item(kind, payload))
    return {
        "description": "Server-Sent Events (docs/events.md): `connected` first, `close` last; each item "
                       "is one event, its `data` one line of JSON.",
        "oneOf": items,
    }


def describe(spec: StreamEndpoint[Any], *, streaming: bool) -> Operation:
    """Both routes' documentation, from the spec: a protocol adapter's (`stream_doc`) too, its
    errors in its own body (`errors`), a route of both answers (`streaming`) as one."""
    body_route = spec.body is not None or spec.form is not None
    doc = spec.stream_doc
    protocol = doc is not None
    both = spec.streaming is not None
    errors = spec.errors
    refused = "invalid parameters: the JSON body names the field (`field`); no stream starts"
    replies: dict[int, Reply] = {}
    twin = not streaming or both
    if streaming and doc is not None:
        stream_headers = {k.decode(): v.decode() for k, v in spec.headers}
        if both:
            replies[200] = Reply(f"the folded answer, or with {spec.streamed_when} {doc['description']}",
                                 spec.answer, headers=RATE_HEADERS, more={"text/event-stream": doc})
        else:
            replies[200] = Reply(doc["description"], doc, media="text/event-stream",
                                 headers={**stream_headers, **RATE_HEADERS})
    elif streaming:
        replies[200] = Reply("a Server-Sent Events stream", headers=RATE_HEADERS)
    else:
        replies[200] = Reply("the stream folded into one document (docs/events.md, 'The JSON twin')", spec.answer,
                             headers=RATE_HEADERS)
    if streaming and spec.resumable:
        replies[204] = Reply("`Last-Event-ID` of a finished stream: nothing left to send")
    replies[400] = Reply(refused + (" (also a malformed `Last-Event-ID`)" if streaming and spec.resumable else "")
                         + ("; or the stream ended with INVALID_PARAMETERS" if twin and not protocol else ""),
                         errors if protocol else (ErrorBody, StreamFailure) if twin else ErrorBody)
    if streaming:
        replies[404] = Reply("STREAMING_DISABLED" + (" (asked to stream)" if both else ": use the JSON twin"), errors)
    if streaming and spec.resumable:
        replies[410] = Reply("STREAM_EXPIRED: `Last-Event-ID` names no stream this route can resume for this caller",
                             ErrorBody)
    if twin:
        failure = errors if protocol else StreamFailure
        replies[502] = Reply("UPSTREAM_UNAVAILABLE: a model or service the stream depends on failed", failure)
        replies[504] = Reply("STREAM_TIMEOUT", failure)
    if spec.authorize is not None:
        replies[401] = Reply("UNAUTHORIZED: no admin token", errors)
        replies[403] = Reply("FORBIDDEN: a wrong admin token", errors)
    if body_route:
        replies[408] = Reply("BODY_TIMEOUT: the body stopped arriving", errors)
        replies[413] = Reply(f"BODY_TOO_LARGE: the body is larger than this route takes ({spec.body_limit} bytes)"
                             if spec.body is not None else "the body is larger than this route takes", errors)
        replies[415] = Reply("UNSUPPORTED_MEDIA_TYPE: " + ("not JSON" if spec.body is not None else
                                                          "not multipart/form-data, or a file type not taken"),
                             errors)
    for status, text in (spec.refusals or {}).items():
        replies[status] = Reply(text, errors)
    replies[429] = Reply("RATE_LIMITED or TOO_MANY_STREAMS, with Retry-After", errors,
                         headers={"Retry-After": "seconds", **RATE_HEADERS})
    replies[503] = Reply("SERVER_SHUTTING_DOWN, DB_UNAVAILABLE, SEARCH_NOT_READY, RATE_LIMIT_UNAVAILABLE"
                         + (", ADMIN_DISABLED" if spec.authorize is not None else ""),
                         errors if protocol or (streaming and not both) else (ErrorBody, StreamFailure))
    kinds, results = _kinds(spec)
    models: tuple[type[BaseModel], ...] = ()
    ours = streaming and not protocol
    if ours:
        models = tuple(EVENT_MODELS[k] for k in kinds if k != "results" or not results) \
            + tuple(RESULT_BY_TYPE[r] for r in results) + (ResultsEvent,)
    return Operation(
        summary=spec.summary + ("" if streaming else " (JSON)"),
        description=spec.description,
        replies=replies,
        query=spec.query,
        body=spec.body,
        form=spec.form,
        headers=(LAST_EVENT_ID,) if streaming and spec.resumable else (),
        admin=spec.authorize is not None,
        tags=(spec.tag,) if protocol else ("streams",) if streaming else ("json twins",),
        extensions={"x-events": list(spec.events)} if ours and spec.events else {},
        stream=(lambda: event_stream_schema(spec)) if ours else None,
        models=models,
    )


def when_enabled(
    endpoint: Callable[[Request], Awaitable[Response]], settings: Settings,
) -> Callable[[Request], Awaitable[Response]]:
    async def gated(request: Request) -> Response:
        if not settings.streaming_enabled:
            return disabled()
        return await endpoint(request)

    return gated


def disabled() -> Response:
    return error_response(404, "Streaming is disabled on this server; use the JSON endpoint", Code.STREAMING_DISABLED)

