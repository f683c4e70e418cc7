"""The Vercel AI SDK's chat transport (`useChat`, `DefaultChatTransport`; UI message stream v1).

    POST /api/ai-sdk/chat                 {id, messages, trigger?, messageId?, model?}: the
                                          UI message stream (`x-vercel-ai-ui-message-stream: v1`)
    GET  /api/ai-sdk/chat/{id}/stream     `useChat({resume: true})`: the caller's running stream
                                          of that chat from its start, or 204 when there is none

Not a second producer: a turn runs the assistant's own producer through the engine, as a
`StreamEndpoint` served like the native routes (app/streams/endpoint.py: streaming enabled ->
rate limit -> cap -> the body, within 512 KB -> admission); only the wire differs
(app/protocols/ai_sdk_ui.py). The question is the last message's text parts, within the
native routes' 4,000 characters.

- The assistant: `model` in the body, as `/v1/models` names them (`storestream-agent`, the
  default, or `storestream-chat`; another: 400 naming `model`); `useChat` sends it with
  `new DefaultChatTransport({api, body: {model: "storestream-chat"}})`.
- The conversation: the chat's `id` is the session (the agent's `sessionId`, the chat's
  session), so the assistant remembers it as on its native route; earlier messages in the
  body are not replayed (the server has them). `useChat` sends the whole history every
  time, so the body may hold 512 KB (the native routes: 64 KB).
- Resume, bound to whoever started the chat's stream: a chat id is guessable (it is the
  session id, often in a URL), so it is never enough to read a stream. The first POST of a
  browser gets a cookie, `storestream_chat` (128 random bits, HttpOnly, SameSite=Strict,
  Path=/api/ai-sdk/chat), which the browser sends back with every later POST and resume;
  the chat's latest stream (its token) is filed under a hash of that secret and the chat
  id. So a caller without the cookie who posts the same chat id files their own stream
  under their own key (the owner's entry is untouched), and a resume without it finds
  nothing (204). With `STREAM_RESUME_BIND_CLIENT=true` the engine also checks the client
  address, as for every stream. In Redis (with the shared replay buffer) the entry is filed
  under the same hash, so any instance finds it for the owner and for nobody else, with no
  server secret to share. A client without cookies (a server-side `fetch`) gets no resume.
  Every resume request is charged to the budget before the lookup, 204 included.
- Stop: `useChat`'s `stop()` aborts the fetch, which the server cannot tell from a reload;
  the stream is detached like the native agent's (it runs on for STREAM_DETACH_S so a
  reload resumes it). To stop the work itself, the `start` part's `messageMetadata` carries
  `streamId` and `eventId`: `POST /api/streams/{streamId}/stop` with `Last-Event-ID:
  <eventId>` (app/routes/streams.py), bound like every stop.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.agent.agent import AgentDeps
from app.chat.answer import ChatDeps
from app.contracts.fields import OpenContract, QueryContract, Text, example
from app.contracts.openapi import Operation, Reply
from app.contracts.reading import HISTORY_MAX_BYTES, read_path
from app.errors import ErrorBody
from app.protocols.ai_sdk_ui import HEADER, UIMessageFrames
from app.redis_link import PREFIX, RedisLink, Unavailable
from app.routes.openai_compat import MODELS, Assistant, Turn, ask, assistant_named, assistants, context, \
    last_question, produce
from app.streams.endpoint import RATE_HEADERS, StreamEndpoint, StreamRoute, data_lines, describe, resume_running, \
    serve, when_enabled
from app.streams.engine import StreamContext
from app.streams.events import Event
from app.streams.services import StreamServices

NAME = "ai_sdk_chat"
PATH = "/api/ai-sdk/chat"
COOKIE = "storestream_chat"
_SECRET = re.compile(r"[0-9a-f]{32}")
_WHO = "AI SDK chat streams"
_CONSEQUENCE = "a resume finds only the chats this instance started"


class UIPart(OpenContract):
    """A part of a message; only text parts are read (the others: ignored)."""

    type: Annotated[str, Text(128, min_len=1)]
    text: Annotated[str, Text(HISTORY_MAX_BYTES)] | None = None


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
    model: Annotated[str, Text(64), Field(json_schema_extra={"enum": list(MODELS)})] | None = Field(
        default=None, description="the assistant, as GET /v1/models names it: the sales agent (the default) or the chat")


def question(body: UIChatRequest) -> str:
    return last_question(body.messages, lambda message: "\n".join(
        p.text for p in message.parts if p.type == "text" and p.text), field="parts")


def owner_of(request: Request) -> str | None:
    """The caller's chat secret (its cookie), when it sent a well-formed one."""
    value = request.cookies.get(COOKIE, "")
    return value if _SECRET.fullmatch(value) else None


def chat_key(owner: str, chat_id: str) -> str:
    """Where a chat's stream is filed for its owner: neither the id nor the secret alone finds it."""
    return hashlib.sha256(f"{owner}\x00{chat_id}".encode()).hexdigest()[:32]


class ChatStreams:
    """Each (owner, chat)'s latest stream (its token), under `chat_key`: in this process (at
    most `size` entries) and, when the replay buffer is shared in Redis, there too, so a resume
    reaching another instance finds it (for `ttl_s`, as long as the stream can run and stay in
    the replay buffer)."""

    def __init__(self, size: int, *, shared: RedisLink | None = None, ttl_s: float = 0.0) -> None:
        self.size = size
        self.shared = shared
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self._tokens: OrderedDict[str, str] = OrderedDict()

    @staticmethod
    def redis_key(key: str) -> str:
        return f"{PREFIX}{NAME}:{key}"

    async def started(self, key: str, token: str) -> None:
        self._tokens[key] = token
        self._tokens.move_to_end(key)
        while len(self._tokens) > self.size:
            self._tokens.popitem(last=False)
        if self.shared is not None:
            where = self.redis_key(key)
            try:
                await self.shared.call(_WHO, _CONSEQUENCE, lambda c: c.set(where, token, px=self.ttl_ms))
            except Unavailable:
                pass

    async def token(self, key: str) -> str | None:
        if self.shared is not None:
            where = self.redis_key(key)
            try:
                found = await self.shared.call(_WHO, _CONSEQUENCE, lambda c: c.get(where))
            except Unavailable:
                found = None
            if found is not None:
                return found.decode() if isinstance(found, bytes) else str(found)
        return self._tokens.get(key)


@dataclass(frozen=True, slots=True)
class ChatTurn:
    turn: Turn
    chat_id: str
    owner: str
    new_owner: bool  # the secret was drawn for this request: the response sets the cookie


def chat_produce(chat: ChatTurn, ctx: StreamContext) -> AsyncGenerator[Event, None]:
    return produce(chat.turn, ctx)


def chat_context(chat: ChatTurn) -> dict[str, Any]:
    return context(chat.turn)


def cookie(request: Request, owner: str) -> tuple[bytes, bytes]:
    secure = "; Secure" if request.url.scheme == "https" else ""
    return b"set-cookie", f"{COOKIE}={owner}; Path={PATH}; HttpOnly; SameSite=Strict{secure}".encode()


PARTS = data_lines("the UI message stream (docs/protocols.md): each item one `data:` line of JSON, a UI "
                        "message chunk (`start`, `text-start`, `text-delta`, `text-end`, `tool-input-available`, "
                        "`tool-output-available`, `data-*`, `source-document`, `error`, `finish`), then "
                        "`data: [DONE]`")


def ui_chat_endpoint(found: Mapping[str, Assistant], chats: ChatStreams) -> StreamEndpoint[ChatTurn]:
    """Detached like the native agent: a reload's `useChat({resume: true})` finds it running.
    Not resumable by `Last-Event-ID` (its frames carry no ids): by chat id, below."""

    async def parse(request: Request, body: UIChatRequest) -> ChatTurn:
        assistant = assistant_named(found, body.model)
        text = question(body)
        owner = owner_of(request)
        drawn = owner is None
        owner = owner or secrets.token_hex(16)
        return ChatTurn(await ask(request, assistant, text, body.id), body.id, owner, drawn)

    async def started(chat: ChatTurn, request: Request, token: str) -> Iterable[tuple[bytes, bytes]]:
        await chats.started(chat_key(chat.owner, chat.chat_id), token)
        return [cookie(request, chat.owner)] if chat.new_owner else []

    return StreamEndpoint(
        NAME, parse, chat_produce, context=chat_context, detach=True, frames=UIMessageFrames, headers=(HEADER,),
        body=UIChatRequest, body_limit=HISTORY_MAX_BYTES, resumable=False, started=started,
        summary="Vercel AI SDK chat (`useChat`): the sales agent or the chat as a UI message stream",
        description="The assistant's own stream written as the AI SDK's UI message stream, protocol v1 "
                    "(docs/protocols.md): the same rate limit, stream cap and input limits as the native routes. "
                    "The response sets the `storestream_chat` cookie the resume is bound to.",
        stream_doc=PARTS, tag="protocols",
        refusals={400: "INVALID_PARAMETERS: the field at fault in `field` (an unknown `model` too)"},
    )


class ChatPath(QueryContract):
    model_config = example(id="demo-chat")

    id: Annotated[str, Text(128, min_len=1, description="the chat's id, as posted")]


def resume(spec: StreamEndpoint[ChatTurn], chats: ChatStreams,
           streams: StreamServices) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        chat_id = read_path(request, ChatPath).id
        owner = owner_of(request)
        token = await chats.token(chat_key(owner, chat_id)) if owner is not None else None
        return await resume_running(spec, streams, request, token)

    # charged before the lookup, 204 included: a chat id can be guessed, probing is not free
    return when_enabled(streams.limiter.guard(f"{NAME}_resume", endpoint), streams.settings)


RESUME = Operation(
    "Vercel AI SDK resume (`useChat({resume: true})`): the caller's running stream of the chat from its start",
    path=ChatPath, tags=("protocols",), replies={
        200: Reply("the running stream's UI message chunks from `start` on, following it to `[DONE]`", PARTS,
                   media="text/event-stream", headers={"x-vercel-ai-ui-message-stream": "v1", **RATE_HEADERS}),
        204: Reply("no stream of this chat is running that this caller (its `storestream_chat` cookie) may read"),
        400: Reply("INVALID_PARAMETERS: the id is longer than 128 characters", ErrorBody),
        404: Reply("STREAMING_DISABLED", ErrorBody),
        429: Reply("RATE_LIMITED, with Retry-After", ErrorBody, headers={"Retry-After": "seconds", **RATE_HEADERS}),
        503: Reply("SERVER_SHUTTING_DOWN, RATE_LIMIT_UNAVAILABLE", ErrorBody),
    })


def routes(chat_deps: ChatDeps, agent_deps: AgentDeps, streams: StreamServices) -> list[Route]:
    settings = streams.settings
    shared = getattr(streams.replay, "link", None)  # the Redis replay buffer's
    chats = ChatStreams(settings.stream_replay_streams, shared=shared if isinstance(shared, RedisLink) else None,
                        ttl_s=settings.streaming_timeout / 1000 + settings.stream_replay_ttl_s)
    spec = ui_chat_endpoint(assistants(chat_deps, agent_deps), chats)
    return [
        StreamRoute(PATH, serve(spec, streams), methods=["POST"], name=NAME, operation=describe(spec, streaming=True)),
        StreamRoute(f"{PATH}/{{id}}/stream", resume(spec, chats, streams), methods=["GET"], name=f"{NAME}_resume",
                    operation=RESUME),
    ]
