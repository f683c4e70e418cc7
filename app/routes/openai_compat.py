"""OpenAI-compatible chat completions: any OpenAI client talks to the store's assistants.

    POST /v1/chat/completions   {model, messages, stream?, user?}: `chat.completion.chunk`s
                                ending with `data: [DONE]`, or (not streaming) one `chat.completion`
    GET  /v1/models             the assistants: `storestream-agent` (the sales agent) and
                                `storestream-chat` (the chat); GET /v1/models/{model}: one

Not a second producer: a request runs the assistant's own producer (app/agent/agent.py,
app/chat/answer.py) through the engine, behind the same rate limit, concurrent-stream cap and
input limits as its native route; only the wire differs (app/protocols/openai_chat.py).

The conversation: chat completions is stateless, so `messages` holds it all; the last message
must be the shopper's (`role: "user"`) and is the question, within the native routes' 4,000
characters. Earlier turns are not replayed: `user` is the session id (the native routes'
`sessionId`), and with it the assistant remembers the session as it does for its own routes
(history, the agent's current search and the products shown); without it each request is a
new conversation. Refusals are OpenAI's error body, `{"error": {message, type, code, param}}`
(`code`: our stable code, `param`: the field at fault).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette import responses
from starlette.responses import Response
from starlette.routing import Route

from app.agent.agent import AgentDeps
from app.chat.answer import ChatDeps
from app.contracts.fields import Flag, Int, OpenContract, Payload, QueryContract, Text, example
from app.contracts.openapi import ApiRoute, Operation, Reply
from app.contracts.reading import JSON_MAX_BYTES, read_path
from app.errors import BadRequest
from app.protocols.openai_chat import ChunkFrames, completion, error_object
from app.responses import JSONResponse
from app.routes import chat, troika
from app.streams.asgi import handled
from app.streams.endpoint import StreamEndpoint, StreamRoute, data_lines, describe, serve
from app.streams.engine import StreamContext
from app.streams.events import Event
from app.streams.services import StreamServices

AGENT = "storestream-agent"
CHAT = "storestream-chat"
MAX_QUESTION = 4000  # as the native routes' `message` and `query`
MODELS = (AGENT, CHAT)  # what `assistants` serves: GET /v1/models, and the `model` every protocol takes


# -- the request ---------------------------------------------------------------------------------


class TextPart(OpenContract):
    type: Literal["text"]
    text: Annotated[str, Text(JSON_MAX_BYTES)]


class ChatMessage(OpenContract):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Annotated[str, Text(JSON_MAX_BYTES)] | list[TextPart] | None = None


class CompletionRequest(OpenContract):
    """`POST /v1/chat/completions`: OpenAI's body; fields this server does not use
    (temperature, max_tokens, tools, stream_options...) are ignored."""

    model_config = example(model=AGENT, messages=[{"role": "user", "content": "shaadi ke liye red lehenga 20k tak"}])

    model: Annotated[str, Text(64, min_len=1, description=f"`{AGENT}` or `{CHAT}` (GET /v1/models)")]
    messages: list[ChatMessage] = Field(min_length=1, max_length=500,
                                        description="the conversation; the last one is the shopper's question")
    stream: Flag | None = Field(default=None, description="true: `chat.completion.chunk`s as Server-Sent Events")
    user: Annotated[str, Text(128, description="the session id: the assistant remembers the session "
                                               "(absent: a new conversation)")] | None = None
    n: Annotated[int, Int(1, 1, description="one choice only")] | None = None


def question(body: CompletionRequest) -> str:
    """The last message, the shopper's, as text; or a 400 naming what is wrong with it."""
    return last_question(body.messages, lambda message: message.content if isinstance(message.content, str)
                         else "\n".join(p.text for p in message.content or ()).strip())


def last_question(messages: Sequence[Any], text_of: Callable[[Any], str], field: str = "content") -> str:
    """The last of `messages` (each with a `role`), the shopper's, as text (`text_of` the
    message); or a 400 naming the field at fault (`messages.<n>.role`, `messages.<n>.<field>`).
    Every protocol's question is read here."""
    at = len(messages) - 1
    last = messages[at]
    if last.role != "user":
        raise BadRequest("the last message must be the shopper's (role \"user\")", field=f"messages.{at}.role")
    text = text_of(last).strip()
    if not 1 <= len(text) <= MAX_QUESTION:
        raise BadRequest(f"the question must be 1 to {MAX_QUESTION} characters", field=f"messages.{at}.{field}")
    return text


# -- the assistants --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assistant:
    """A `model` name for a native stream endpoint, and how a question starts its request
    (storing the shopper's message, as its own route does)."""

    model: str
    description: str
    native: StreamEndpoint[Any]
    start: Callable[[Request, str, str | None], Awaitable[Any]]


def assistants(chat_deps: ChatDeps, agent_deps: AgentDeps) -> dict[str, Assistant]:
    async def agent(request: Request, text: str, user: str | None) -> Any:
        body = troika.TroikaBody.model_validate({"message": text, "sessionId": user})
        return await troika.parse(agent_deps.database, request, body)

    async def answer(request: Request, text: str, user: str | None) -> Any:
        return await chat.start_chat(chat_deps.database, text, user, None, False, None)

    return {
        AGENT: Assistant(AGENT, "the Troika sales agent: intents, tools, market intelligence, session memory",
                         troika.troika_endpoint(agent_deps), agent),
        CHAT: Assistant(CHAT, "the store chat: answers from the catalog and the uploaded documents",
                        chat.chat_endpoints(chat_deps)[0], answer),
    }


@dataclass(frozen=True, slots=True)
class Turn:
    assistant: Assistant
    params: Any


async def ask(request: Request, assistant: Assistant, text: str, user: str | None) -> Turn:
    """A turn of `assistant`: the question stored as its own route stores it."""
    return Turn(assistant, await assistant.start(request, text, user))


def assistant_named(found: Mapping[str, Assistant], name: str | None) -> Assistant:
    """The assistant a protocol's `model` names (absent: the sales agent), or a 400 naming it."""
    assistant = found.get(name or AGENT)
    if assistant is None:
        raise BadRequest(f"must be one of: {', '.join(found)} (GET /v1/models)", field="model")
    return assistant


def produce(turn: Turn, ctx: StreamContext) -> AsyncGenerator[Event, None]:
    return turn.assistant.native.produce(turn.params, ctx)


def context(turn: Turn) -> dict[str, Any]:
    native = turn.assistant.native
    return {**(native.context(turn.params) if native.context else {}), "model": turn.assistant.model,
            "created": int(time.time())}


def completions_endpoint(found: Mapping[str, Assistant]) -> StreamEndpoint[Turn]:
    """Both modes of the route (`stream` in the body): chunks (`frames`) or one completion
    (`folding`). Not detached and not resumable: an OpenAI client cannot resume, so a stream
    whose client left is cancelled (its answer stored as `interrupted`)."""

    async def parse(request: Request, body: CompletionRequest) -> Turn:
        return await ask(request, model_named(found, body.model), question(body), body.user)

    return StreamEndpoint(
        "openai_chat", parse, produce, context=context, frames=ChunkFrames, folding=completion,
        body=CompletionRequest, resumable=False, streaming=lambda body: bool(body.stream),
        summary="OpenAI-compatible chat completion (streaming or not) by the sales agent or the chat",
        description="The assistant's own stream, written as OpenAI's chat completions (docs/protocols.md): the "
                    "same rate limit, stream cap and input limits as the native routes; refusals in OpenAI's error "
                    "body.",
        answer=ChatCompletion, errors=OpenAIError, stream_doc=CHUNKS, tag="protocols", streamed_when="`stream: true`",
        refusals={404: "model_not_found; STREAMING_DISABLED (asked to stream)"},
    )


# -- the routes ------------------------------------------------------------------------------


def completions(spec: StreamEndpoint[Turn], streams: StreamServices) -> Callable[[Request], Awaitable[Response]]:
    return openai_errors(serve(spec, streams))


def openai_errors(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Every refusal of `endpoint` (ours: the limiter's 429, validation's 400, a 503...) in
    OpenAI's error body, with its headers (Retry-After, X-RateLimit-*)."""

    async def answer(request: Request) -> Response:
        try:
            response = await endpoint(request)
        except Exception as exc:  # noqa: BLE001 - answered as the app answers it, then reshaped
            response = await handled(request.app.exception_handlers, request, exc)
        return in_openai_shape(response)

    return answer


def in_openai_shape(response: Response) -> Response:
    if response.status_code < 400 or not isinstance(response, responses.JSONResponse):  # the limiter's too
        return response
    body = json.loads(bytes(response.body))
    if not isinstance(body, dict) or isinstance(body.get("error"), dict):  # already OpenAI's (a folded stream)
        return response
    status = response.status_code
    reshaped = JSONResponse(error_object(status, str(body.get("error", "")), str(body.get("code", "")),
                                         body.get("field")), status_code=status)
    for key, value in response.headers.items():
        if key not in ("content-length", "content-type"):
            reshaped.headers[key] = value
    return reshaped


def model_named(found: Mapping[str, Assistant], name: str) -> Assistant:
    assistant = found.get(name)
    if assistant is None:
        raise BadRequest(f"no model {name!r}; GET /v1/models lists them", status=404, code="model_not_found",
                         field="model")
    return assistant


def card(assistant: Assistant, created: int) -> dict[str, Any]:
    return {"id": assistant.model, "object": "model", "created": created, "owned_by": "storestream",
            "description": assistant.description}


async def models(found: Mapping[str, Assistant], created: int, request: Request) -> JSONResponse:
    return JSONResponse({"object": "list", "data": [card(a, created) for a in found.values()]})


class ModelPath(QueryContract):
    model_config = example(model=AGENT)

    model: Annotated[str, Text(64, min_len=1, description="a `model` GET /v1/models lists")]


async def model(found: Mapping[str, Assistant], created: int, request: Request) -> JSONResponse:
    return JSONResponse(card(model_named(found, read_path(request, ModelPath).model), created))


# -- the documentation -----------------------------------------------------------------------


class OpenAIErrorDetail(Payload):
    message: str
    type: str = Field(description="invalid_request_error, not_found_error, rate_limit_error, server_error...")
    code: str = Field(description="our stable code (docs/events.md), or model_not_found")
    param: str | None = Field(description="the field at fault, as a dotted path (`messages.0.content`)")


class OpenAIError(Payload):
    """OpenAI's error body (its clients raise BadRequestError, RateLimitError... by status)."""

    error: OpenAIErrorDetail


class AssistantMessage(Payload):
    role: Literal["assistant"]
    content: str
    refusal: None = None


class Choice(Payload):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop"]
    logprobs: None = None


class ChatCompletion(Payload):
    """A `chat.completion`; `storestream` holds what chat completions has no field for: the
    `results` payloads by type (product cards, sources, suggestions...) and our ids."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    system_fingerprint: None = None
    choices: list[Choice]
    storestream: dict[str, Any]


class ModelCard(Payload):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    description: str


class ModelList(Payload):
    object: Literal["list"]
    data: list[ModelCard]


CHUNKS = data_lines("`chat.completion.chunk`s (docs/protocols.md): each item one `data:` line, ending with "
                    "`[DONE]`, or with an `{\"error\": {...}}` object when the stream fails")
MODELS_LIST = Operation("The assistants, as OpenAI models", tags=("protocols",),
                   replies={200: Reply("the `model` names /v1/chat/completions takes", ModelList)})
MODEL = Operation("One assistant, as an OpenAI model", path=ModelPath, tags=("protocols",), replies={
    200: Reply("the model", ModelCard),
    400: Reply("invalid_request_error: the name is longer than 64 characters", OpenAIError),
    404: Reply("model_not_found", OpenAIError),
})


def routes(chat_deps: ChatDeps, agent_deps: AgentDeps, streams: StreamServices) -> list[Route]:
    found = assistants(chat_deps, agent_deps)
    created = int(time.time())
    spec = completions_endpoint(found)
    return [
        StreamRoute("/v1/chat/completions", completions(spec, streams), methods=["POST"], name="openai_chat",
                    operation=describe(spec, streaming=True)),
        ApiRoute("/v1/models", partial(models, found, created), methods=["GET"], operation=MODELS_LIST),
        ApiRoute("/v1/models/{model}", openai_errors(partial(model, found, created)), methods=["GET"],
                 operation=MODEL),
    ]

