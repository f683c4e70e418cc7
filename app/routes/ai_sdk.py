"""The Vercel AI SDK's chat transport (`useChat`, `DefaultChatTransport`; UI message stream v1).

    POST /api/ai-sdk/chat                 {id, messages, trigger?, messageId?, model?}: the
                                          UI message stream (`x-vercel-ai-ui-message-stream: v1`)
    GET  /api/ai-sdk/chat/{id}/stream     `useChat({resume: true})`: the chat's running stream
                                          from its start, or 204 when there is none

Not a second producer: a turn runs the assistant's own producer through the engine, behind
the same rate limit, concurrent-stream cap and admission as its native route; only the wire
differs (app/protocols/ai_sdk_ui.py). The question is the last message's text parts, within
the native routes' 4,000 characters.

- The assistant: `model` in the body, as `/v1/models` names them (`storestream-agent`, the
  default, or `storestream-chat`; another: 400 naming `model`); `useChat` sends it with
  `new DefaultChatTransport({api, body: {model: "storestream-chat"}})`. One route and one
  parameter for both, as on /v1.
- The conversation: the chat's `id` is the session (the agent's `sessionId`, the chat's
  session), so the assistant remembers it as on its native route; earlier messages in the
  body are not replayed (the server has them). `useChat` sends the whole history every
  time, so the body may hold 512 KB (the native routes: 64 KB); sending only the last
  message (`prepareSendMessagesRequest`) is lighter.
- Resume: the chat's latest stream is remembered by its id (in process, and in Redis with
  the shared replay buffer); the GET serves it from its first part while it runs, through
  the engine's resume with the same checks (app/streams/endpoint.py, `resume_running`). The
  chat id is what the client holds, as the token is for `Last-Event-ID`: it is as secret as
  the session id it is.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.agent.agent import AgentDeps
from app.chat.answer import ChatDeps
from app.contracts.fields import OpenContract, QueryContract, Text, example
from app.contracts.openapi import Operation, Reply
from app.contracts.reading import read_json, read_path
from app.errors import BadRequest, ErrorBody
from app.protocols.ai_sdk_ui import HEADER, UIMessageFrames
from app.redis_link import PREFIX, RedisLink, Unavailable
from app.routes.openai_compat import _ASKED, AGENT, MAX_QUESTION, Asked, Assistant, assistants, context, \
    Turn, parse, produce
from app.streams.endpoint import RATE_HEADERS, StreamEndpoint, StreamRoute, resume_running, sse_endpoint, \
    when_enabled
from app.streams.response import LiveResponse
from app.streams.services import StreamServices

BODY_LIMIT = 512 * 1024
NAME = "ai_sdk_chat"
_WHO = "AI SDK chat streams"
_CONSEQUENCE = "a resume finds only the chats this instance started"


class UIPart(OpenContract):
    """A part of a message; only text parts are read (the others: ignored)."""

    type: Annotated[str, Text(128, min_len=1)]
    text: Annotated[str, Text(BODY_LIMIT)] | None = None


class UIMessage(OpenContract):
    id: Annotated[str, Text(128)] | None = None
    role: Literal["system", "user", "assistant"]
    parts: list[UIPart] = Field(max_length=1000)


class UIChatRequest(OpenContract):
    """What `useChat` (`DefaultChatTransport`) posts; unknown fields are ignored."""

    model_config = example(id="demo-chat", trigger="submit-message", messages=[
        {"id": "m1", "role": "user", "parts": [{"type": "text", "text": "shaadi ke liye red lehenga 20k tak"}]}])

    id: Annotated[str, Text(128, min_len=1, description="the chat's id: the session (the agent's `sessionId`)")]
    messages: list[UIMessage] = Field(min_length=1, max_length=500,
                                      description="the chat; the last one is the shopper's question")
    trigger: Literal["submit-message", "regenerate-message"] | None = None
    messageId: Annotated[str, Text(128)] | None = None  # noqa: N815 - the AI SDK's name
    model: Literal["storestream-agent", "storestream-chat"] | None = Field(
        default=None, description="the assistant, as GET /v1/models names it: the sales agent (the default) "
                                  "or the chat")


def question(body: UIChatRequest) -> str:
    at = len(body.messages) - 1
    last = body.messages[at]
    if last.role != "user":
        raise BadRequest("the last message must be the shopper's (role \"user\")", field=f"messages.{at}.role")
    text = "\n".join(p.text for p in last.parts if p.type == "text" and p.text).strip()
    if not 1 <= len(text) <= MAX_QUESTION:
        raise BadRequest(f"the question must be 1 to {MAX_QUESTION} characters of text parts",
                         field=f"messages.{at}.parts")
    return text


class ChatStreams:
    """Each chat's latest stream (its token): in this process (at most `size` chats) and, when
    the replay buffer is shared in Redis, there too, so a resume reaching another instance
    finds it (for `ttl_s`, as long as the stream can run and stay in the replay buffer).
    Redis files it under a hash of the chat id; it holds the frames themselves already."""

    def __init__(self, size: int, *, shared: RedisLink | None = None, ttl_s: float = 0.0) -> None:
        self.size = size
        self.shared = shared
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self._tokens: OrderedDict[str, str] = OrderedDict()

    @staticmethod
    def key(chat_id: str) -> str:
        return f"{PREFIX}{NAME}:" + hashlib.sha256(chat_id.encode()).hexdigest()[:32]

    async def started(self, chat_id: str, token: str) -> None:
        self._tokens[chat_id] = token
        self._tokens.move_to_end(chat_id)
        while len(self._tokens) > self.size:
            self._tokens.popitem(last=False)
        if self.shared is not None:
            key = self.key(chat_id)
            try:
                await self.shared.call(_WHO, _CONSEQUENCE, lambda c: c.set(key, token, px=self.ttl_ms))
            except Unavailable:
                pass

    async def token(self, chat_id: str) -> str | None:
        if self.shared is not None:
            key = self.key(chat_id)
            try:
                found = await self.shared.call(_WHO, _CONSEQUENCE, lambda c: c.get(key))
            except Unavailable:
                found = None
            if found is not None:
                return found.decode() if isinstance(found, bytes) else str(found)
        return self._tokens.get(chat_id)


def ui_chat_endpoint() -> StreamEndpoint[Turn]:
    """Detached like the native agent: a reload's `useChat({resume: true})` finds it running."""
    return StreamEndpoint(NAME, parse, produce, context=context, detach=True, frames=UIMessageFrames,
                          headers=(HEADER,))


def chat(found: Mapping[str, Assistant], spec: StreamEndpoint[Turn], chats: ChatStreams,
         streams: StreamServices) -> Callable[[Request], Awaitable[Response]]:
    live = sse_endpoint(spec, streams)

    async def endpoint(request: Request) -> Response:
        body = await read_json(request, UIChatRequest, bodies=streams.bodies, max_bytes=BODY_LIMIT)
        request.scope[_ASKED] = Asked(found[body.model or AGENT], question(body), body.id)
        response = await live(request)
        if isinstance(response, LiveResponse):
            await chats.started(body.id, response.run.token)
        return response

    return when_enabled(streams.limiter.guard(NAME, endpoint), streams.settings)


class ChatPath(QueryContract):
    model_config = example(id="demo-chat")

    id: Annotated[str, Text(128, min_len=1, description="the chat's id, as posted")]


def resume(spec: StreamEndpoint[Turn], chats: ChatStreams,
           streams: StreamServices) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        chat_id = read_path(request, ChatPath).id
        return await resume_running(spec, streams, request, await chats.token(chat_id))

    # charged by `resume_running` when it serves a stream: a 204 is free, as for `Last-Event-ID`
    return when_enabled(streams.limiter.guard(f"{NAME}_resume", endpoint, deferred=lambda _: True),
                        streams.settings)


def data_lines(description: str) -> dict[str, Any]:
    """A protocol's stream in /openapi.json: items of one `data:` line each."""
    return {"description": description, "type": "object", "required": ["data"],
            "properties": {"data": {"type": "string"}}}


def stream_replies(streamed: str, items: dict[str, Any], headers: dict[str, str], invalid: str) -> dict[int, Reply]:
    """A protocol's POST stream's replies: the stream, or our JSON refusals as the native routes'."""
    return {
        200: Reply(streamed, items, media="text/event-stream", headers=headers),
        400: Reply(invalid, ErrorBody),
        404: Reply("STREAMING_DISABLED", ErrorBody),
        408: Reply("BODY_TIMEOUT: the body stopped arriving", ErrorBody),
        413: Reply("the body is larger than 512 KB", ErrorBody),
        415: Reply("UNSUPPORTED_MEDIA_TYPE: not JSON", ErrorBody),
        429: Reply("RATE_LIMITED or TOO_MANY_STREAMS, with Retry-After", ErrorBody,
                   headers={"Retry-After": "seconds", **RATE_HEADERS}),
        503: Reply("SERVER_SHUTTING_DOWN, DB_UNAVAILABLE, RATE_LIMIT_UNAVAILABLE", ErrorBody),
    }


def protocol_operation(summary: str, description: str, body: type[OpenContract],
                       replies: dict[int, Reply]) -> Operation:
    return Operation(summary, description=description, body=body, tags=("protocols",), replies=replies)


PARTS = data_lines("the UI message stream (docs/protocols.md): each item one `data:` line of JSON, a UI message "
                   "chunk (`start`, `text-start`, `text-delta`, `text-end`, `tool-input-available`, "
                   "`tool-output-available`, `data-*`, `source-document`, `error`, `finish`), then `data: [DONE]`")
STREAM_HEADERS = {"x-vercel-ai-ui-message-stream": "v1", **RATE_HEADERS}
CHAT = protocol_operation(
    "Vercel AI SDK chat (`useChat`): the sales agent or the chat as a UI message stream",
    "The assistant's own stream written as the AI SDK's UI message stream, protocol v1 (docs/protocols.md): the "
    "same rate limit, stream cap and input limits as the native routes.",
    UIChatRequest, stream_replies("the UI message stream", PARTS, STREAM_HEADERS,
                                  "INVALID_PARAMETERS: the field at fault in `field` (an unknown `model` too)"))
RESUME = Operation(
    "Vercel AI SDK resume (`useChat({resume: true})`): the chat's running stream from its start",
    path=ChatPath, tags=("protocols",), replies={
        200: Reply("the running stream's UI message chunks from `start` on, following it to `[DONE]`", PARTS,
                   media="text/event-stream", headers=STREAM_HEADERS),
        204: Reply("no stream of this chat is running that this caller may read"),
        400: Reply("INVALID_PARAMETERS: the id is longer than 128 characters", ErrorBody),
        404: Reply("STREAMING_DISABLED", ErrorBody),
        429: Reply("RATE_LIMITED, with Retry-After", ErrorBody, headers={"Retry-After": "seconds", **RATE_HEADERS}),
        503: Reply("SERVER_SHUTTING_DOWN, RATE_LIMIT_UNAVAILABLE", ErrorBody),
    })


def routes(chat_deps: ChatDeps, agent_deps: AgentDeps, streams: StreamServices) -> list[Route]:
    found = assistants(chat_deps, agent_deps)
    spec = ui_chat_endpoint()
    settings = streams.settings
    shared = getattr(streams.replay, "link", None)  # the Redis replay buffer's
    chats = ChatStreams(settings.stream_replay_streams, shared=shared if isinstance(shared, RedisLink) else None,
                        ttl_s=spec.deadline(settings) + settings.stream_replay_ttl_s)
    return [
        StreamRoute("/api/ai-sdk/chat", chat(found, spec, chats, streams), methods=["POST"], name=NAME,
                    operation=CHAT),
        StreamRoute("/api/ai-sdk/chat/{id}/stream", resume(spec, chats, streams), methods=["GET"],
                    name=f"{NAME}_resume", operation=RESUME),
    ]
