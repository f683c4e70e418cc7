"""Stopping a stream on purpose.

    POST /api/streams/{stream_id}/stop     Last-Event-ID: <an id the client received from it>

A dropped connection does not stop an answer (it runs on, detached, for `STREAM_DETACH_S`,
so a resume gets all of it); this does, at once: the producer is cancelled, what it said so
far is stored as `interrupted`, and the stream ends with
`error{code: "STREAM_STOPPED", retryable: false}` + `close` (to its reader, and to any later
resume). It is bound exactly like a resume (app/streams/resume.py): the route's own
authentication (an upload needs the admin token), then the `Last-Event-ID` must name this
stream, opened on its route and, when bound, by this client. A stream running on another
instance is stopped there (app/streams/signals.py). A stop spends no rate-limit budget: it
only ever saves work. Every stream endpoint is known here, the protocol adapters' too; one
whose frames carry no ids hands its client the id otherwise (the AI SDK's `start` part, in
its `messageMetadata`: app/protocols/ai_sdk_ui.py).

200 `{"stream_id", "stopped": true}` when it was running, `"stopped": false` when it had
already ended; 400 when `Last-Event-ID` is missing or malformed; 404 `NOT_FOUND` for any
stream that is unknown, expired or not the caller's; 503 when it runs on an instance this
one cannot reach.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.routing import Route

from app.contracts.fields import Payload, QueryContract, Text, example
from app.contracts.openapi import ApiRoute, Operation, Reply
from app.contracts.reading import read_path
from app.errors import BadRequest, ErrorBody, not_found
from app.responses import JSONResponse
from app.streams.endpoint import resume_point
from app.streams.services import StreamServices
from app.streams.resume import Binding, may_resume


class StreamPath(QueryContract):
    model_config = example(stream_id="8bfd193f23b9f786c30a34bae2da9121")  # the form; pairs with the id below

    stream_id: Annotated[str, Text(64, min_len=1, description="`connected.stream_id` (32 hex digits)")]


class Stopped(Payload):
    stream_id: str
    stopped: bool = Field(description="false when it had already ended")


PAST_THE_END = 10**9  # beyond any seq an id can hold (9 digits)


def _not_found() -> BadRequest:
    return not_found("No such stream to stop", "stream_id")


def _authorize(streams: StreamServices, request: Request, binding: Binding | None) -> None:
    spec = streams.endpoints.get(binding.route) if binding is not None else None
    if spec is None:
        raise _not_found()
    if spec.authorize is not None:
        spec.authorize(request)


async def stop(streams: StreamServices, request: Request) -> JSONResponse:
    stream_id = read_path(request, StreamPath).stream_id
    raw = request.headers.get("last-event-id", "").strip()
    if not raw:
        raise BadRequest("Last-Event-ID (an id received from the stream) is required", field="Last-Event-ID")
    point = resume_point(raw)
    if point.stream_id != stream_id:
        raise _not_found()
    client = streams.limiter.client(request)
    bind_client = streams.settings.stream_resume_bind_client

    def allowed(binding: Binding | None) -> bool:
        return binding is not None and may_resume(binding, binding.route, client, bind_client=bind_client)

    run = streams.runs.get(stream_id)
    if run is not None and allowed(run.binding):
        _authorize(streams, request, run.binding)
        return JSONResponse({"stream_id": stream_id, "stopped": run.stop()})
    # The stream's binding and state, not its frames: read past its end, so a stream whose
    # frames after `point.seq` were dropped is found too (the AI SDK's stop names seq 1).
    held = await streams.replay.read(stream_id, PAST_THE_END)
    if held is None or not allowed(held.binding):
        raise _not_found()
    _authorize(streams, request, held.binding)
    if held.finished or held.orphaned or not held.owner:
        return JSONResponse({"stream_id": stream_id, "stopped": False})
    if not await streams.signals.request_stop(held.owner, stream_id):
        raise BadRequest("The instance running that stream cannot be reached; try again shortly",
                         status=503, code="STOP_UNAVAILABLE", headers={"Retry-After": "1"})
    return JSONResponse({"stream_id": stream_id, "stopped": True})


STOP = Operation(
    "Stop a running stream now", path=StreamPath, tags=("streams",),
    description="Bound like a resume: `Last-Event-ID` must be an id the caller received from that stream, and a "
                "stream opened on an admin route needs the admin token too.",
    headers=({"name": "Last-Event-ID", "in": "header", "required": True,
              "schema": {"type": "string", "pattern": "^[0-9a-f]{32}-[0-9]{1,9}$"},
              "description": "an id received from the stream",
              "example": "5f0c3e1b9a7d4c2e8f6a0b1c2d3e4f50-2"},),
    replies={
        200: Reply("stopped (or `stopped: false`: it had already ended)", Stopped),
        400: Reply("Last-Event-ID missing or malformed", ErrorBody),
        401: Reply("UNAUTHORIZED: the stream's route needs the admin token", ErrorBody),
        403: Reply("FORBIDDEN: a wrong admin token", ErrorBody),
        404: Reply("NOT_FOUND: unknown, expired, or not the caller's", ErrorBody),
        503: Reply("STOP_UNAVAILABLE: the instance running it cannot be reached; ADMIN_DISABLED; "
                   "SERVER_SHUTTING_DOWN", ErrorBody),
    },
)


def routes(streams: StreamServices) -> list[Route]:
    return [ApiRoute("/api/streams/{stream_id}/stop", partial(stop, streams), methods=["POST"], operation=STOP)]
