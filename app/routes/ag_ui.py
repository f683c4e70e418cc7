"""AG-UI (CopilotKit's Agent-User Interaction protocol): the sales agent for `HttpAgent`.

    POST /api/ag-ui/agent    RunAgentInput {threadId, runId, messages, tools, context, state,
                             forwardedProps}: the run as AG-UI events, each one `data:` line of JSON

Not a second producer: a run is the sales agent's own producer run through the engine, behind
the same rate limit, concurrent-stream cap, admission and refusals as its native route; only
the wire differs (app/protocols/ag_ui.py). The question is the last message's text (it must
be the shopper's, `role: "user"`), within the native route's 4,000 characters.

- The conversation: `threadId` is the agent's session (`sessionId`), so the agent remembers
  the thread as on its native route (history, the current search, the products shown);
  earlier messages in the body are not replayed (the server has them). `HttpAgent` posts the
  whole thread every run, so the body may hold 512 KB, as the AI SDK route's.
- `tools` (the client's frontend tools), `context` and `state` are read and not used: the agent
  calls its own tools, and its memory is the server's (sent back as `STATE_DELTA`);
  `forwardedProps` is ignored.
- Not detached and not resumable: AG-UI has no resume, so a run whose client left is
  cancelled (its answer stored as `interrupted`), as on /v1.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.agent.agent import AgentDeps
from app.chat.answer import ChatDeps
from app.contracts.fields import OpenContract, Text, example
from app.contracts.reading import read_json
from app.protocols.ag_ui import RUN_KEY, THREAD_KEY, AgUiFrames
from app.routes import openai_compat
from app.routes.ai_sdk import data_lines, protocol_operation, stream_replies
from app.routes.openai_compat import AGENT, Asked, Turn, assistants, last_question
from app.streams.endpoint import RATE_HEADERS, StreamEndpoint, StreamRoute, sse_endpoint, when_enabled
from app.streams.engine import StreamContext
from app.streams.events import Event
from app.streams.services import StreamServices

BODY_LIMIT = 512 * 1024
NAME = "ag_ui_agent"
_RUN = "storestream.ag_ui"  # the request's scope key: what was asked, once validated


class InputPart(OpenContract):
    """A part of a message's content; only text parts are read."""

    type: Annotated[str, Text(128, min_len=1)]
    text: Annotated[str, Text(BODY_LIMIT)] | None = None


class AgUiMessage(OpenContract):
    id: Annotated[str, Text(256)] | None = None
    role: Literal["developer", "system", "assistant", "user", "tool", "activity", "reasoning"]
    content: Annotated[str, Text(BODY_LIMIT)] | list[InputPart] | dict[str, Any] | None = None


class RunAgentInput(OpenContract):
    """What `HttpAgent` posts (`@ag-ui/core`'s `RunAgentInput`); unknown fields are ignored."""

    model_config = example(threadId="demo-thread", runId="run-1", tools=[], context=[], state={}, forwardedProps={},
                           messages=[{"id": "m1", "role": "user", "content": "shaadi ke liye red lehenga 20k tak"}])

    threadId: Annotated[str, Text(128, min_len=1, description="the thread: the agent's session (`sessionId`)")]  # noqa: N815
    runId: Annotated[str, Text(128, min_len=1, description="this run, echoed in RUN_STARTED and RUN_FINISHED")]  # noqa: N815
    messages: list[AgUiMessage] = Field(min_length=1, max_length=500,
                                        description="the thread; the last one is the shopper's question")
    tools: list[dict[str, Any]] = Field(default_factory=list, max_length=200,
                                        description="the client's tools: not called (the agent calls its own)")
    context: list[dict[str, Any]] = Field(default_factory=list, max_length=200, description="read, not used")
    state: Any = Field(default=None, description="not used: the agent's memory is the server's")
    forwardedProps: Any = Field(default=None, description="ignored")  # noqa: N815
    protocolVersion: Annotated[str, Text(32)] | None = None  # noqa: N815
    parentRunId: Annotated[str, Text(128)] | None = None  # noqa: N815


def question(body: RunAgentInput) -> str:
    """The last message's text (a string, or its text parts), the shopper's; or a 400."""
    return last_question(body.messages, lambda content: content if isinstance(content, str) else "\n".join(
        p.text for p in content if p.type == "text" and p.text) if isinstance(content, list) else "")


@dataclass(frozen=True, slots=True)
class AgentRun:
    turn: Turn
    thread_id: str
    run_id: str


async def parse(request: Request) -> AgentRun:
    asked, run_id = request.scope[_RUN]
    turn = await openai_compat.parse_asked(request, asked)
    return AgentRun(turn, asked.user, run_id)


def produce(run: AgentRun, ctx: StreamContext) -> AsyncGenerator[Event, None]:
    return openai_compat.produce(run.turn, ctx)


def context(run: AgentRun) -> dict[str, Any]:
    return {**openai_compat.context(run.turn), THREAD_KEY: run.thread_id, RUN_KEY: run.run_id}


def agent_endpoint() -> StreamEndpoint[AgentRun]:
    """Not detached: AG-UI cannot resume, so a run whose client left is cancelled."""
    return StreamEndpoint(NAME, parse, produce, context=context, frames=AgUiFrames)


def agent(chat_deps: ChatDeps, agent_deps: AgentDeps, streams: StreamServices) -> Callable[[Request], Awaitable[Response]]:
    sales = assistants(chat_deps, agent_deps)[AGENT]
    live = sse_endpoint(agent_endpoint(), streams)

    async def endpoint(request: Request) -> Response:
        body = await read_json(request, RunAgentInput, bodies=streams.bodies, max_bytes=BODY_LIMIT)
        request.scope[_RUN] = (Asked(sales, question(body), body.threadId), body.runId)
        return await live(request)

    return when_enabled(streams.limiter.guard(NAME, endpoint), streams.settings)


EVENTS = data_lines("AG-UI events (docs/protocols.md): each item one `data:` line of JSON with its `type`: "
                    "`RUN_STARTED`, `TOOL_CALL_START`/`_ARGS`/`_END`/`_RESULT`, `CUSTOM` (`intent`, `product_cards`, "
                    "`market_intelligence`, `comparison`, `stock`, `suggestions`, `audio`...), "
                    "`TEXT_MESSAGE_START`/`_CONTENT`/`_END`, `STATE_DELTA`, then `RUN_FINISHED` or `RUN_ERROR`")
AGENT_RUN = protocol_operation(
    "AG-UI (`HttpAgent`, CopilotKit): the sales agent as AG-UI events",
    "The sales agent's own stream written as AG-UI events (docs/protocols.md): the same rate limit, stream cap and "
    "input limits as the native route; `threadId` is the agent's session.",
    RunAgentInput, stream_replies("the run's AG-UI events", EVENTS, RATE_HEADERS,
                                  "INVALID_PARAMETERS: the field at fault in `field`"))


def routes(chat_deps: ChatDeps, agent_deps: AgentDeps, streams: StreamServices) -> list[Route]:
    return [StreamRoute("/api/ag-ui/agent", agent(chat_deps, agent_deps, streams), methods=["POST"], name=NAME,
                        operation=AGENT_RUN)]
