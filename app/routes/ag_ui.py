"""AG-UI (CopilotKit's Agent-User Interaction protocol): the sales agent for `HttpAgent`.

    POST /api/ag-ui/agent    RunAgentInput {threadId, runId, messages, tools, context, state,
                             forwardedProps}: the run as AG-UI events, each one `data:` line of JSON

Not a second producer: a run is the sales agent's own producer run through the engine, as a
`StreamEndpoint` served like its native route (app/streams/endpoint.py: streaming enabled ->
rate limit -> cap -> the body, within 512 KB -> admission); only the wire differs
(app/protocols/ag_ui.py). The question is the last message's text (it must
be the shopper's, `role: "user"`), within the native route's 4,000 characters.

- The conversation: `threadId` is the agent's session (`sessionId`), so the agent remembers
  the thread as on its native route (history, the current search, the products shown);
  earlier messages in the body are not replayed (the server has them). `HttpAgent` posts the
  whole thread every run, so the body may hold 512 KB, as the AI SDK route's.
- `tools` (the client's frontend tools), `context` and `state` are read and not used: the agent
  calls its own tools, and its memory is the server's (sent back as `STATE_DELTA`);
  `forwardedProps` is ignored.
- Not detached and not resumable: AG-UI has no resume (a `Last-Event-ID` header is ignored),
  so a run whose client left (`HttpAgent`'s abort) is cancelled at once, its answer stored
  as `interrupted`, as on /v1: the abort is this protocol's stop.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.routing import Route

from app.agent.agent import AgentDeps
from app.chat.answer import ChatDeps
from app.contracts.fields import OpenContract, Text, example
from app.contracts.reading import HISTORY_MAX_BYTES
from app.protocols.ag_ui import RUN_KEY, THREAD_KEY, AgUiFrames
from app.routes import openai_compat
from app.routes.openai_compat import AGENT, Assistant, Turn, ask, assistants, last_question
from app.streams.endpoint import StreamEndpoint, StreamRoute, data_lines, describe, serve
from app.streams.engine import StreamContext
from app.streams.events import Event
from app.streams.services import StreamServices

NAME = "ag_ui_agent"


class InputPart(OpenContract):
    """A part of a message's content; only text parts are read."""

    type: Annotated[str, Text(128, min_len=1)]
    text: Annotated[str, Text(HISTORY_MAX_BYTES)] | None = None


class AgUiMessage(OpenContract):
    id: Annotated[str, Text(256)] | None = None
    role: Literal["developer", "system", "assistant", "user", "tool", "activity", "reasoning"]
    content: Annotated[str, Text(HISTORY_MAX_BYTES)] | list[InputPart] | dict[str, Any] | None = None


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
    return last_question(body.messages, lambda message: text_of(message.content))


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(p.text for p in content if p.type == "text" and p.text) if isinstance(content, list) else ""


@dataclass(frozen=True, slots=True)
class AgentRun:
    turn: Turn
    thread_id: str
    run_id: str


def produce(run: AgentRun, ctx: StreamContext) -> AsyncGenerator[Event, None]:
    return openai_compat.produce(run.turn, ctx)


def context(run: AgentRun) -> dict[str, Any]:
    return {**openai_compat.context(run.turn), THREAD_KEY: run.thread_id, RUN_KEY: run.run_id}


EVENTS = data_lines("AG-UI events (docs/protocols.md): each item one `data:` line of JSON with its `type`: "
                         "`RUN_STARTED`, `TOOL_CALL_START`/`_ARGS`/`_END`/`_RESULT`, `CUSTOM` (`intent`, "
                         "`product_cards`, `market_intelligence`, `comparison`, `stock`, `suggestions`, `audio`...), "
                         "`TEXT_MESSAGE_START`/`_CONTENT`/`_END`, `STATE_DELTA`, then `RUN_FINISHED` or `RUN_ERROR`")


def agent_endpoint(sales: Assistant) -> StreamEndpoint[AgentRun]:
    """Not detached and not resumable: AG-UI cannot resume, so a run whose client left is cancelled."""

    async def parse(request: Request, body: RunAgentInput) -> AgentRun:
        return AgentRun(await ask(request, sales, question(body), body.threadId), body.threadId, body.runId)

    return StreamEndpoint(
        NAME, parse, produce, context=context, frames=AgUiFrames, body=RunAgentInput, body_limit=HISTORY_MAX_BYTES,
        resumable=False,
        summary="AG-UI (`HttpAgent`, CopilotKit): the sales agent as AG-UI events",
        description="The sales agent's own stream written as AG-UI events (docs/protocols.md): the same rate limit, "
                    "stream cap and input limits as the native route; `threadId` is the agent's session.",
        stream_doc=EVENTS, tag="protocols",
        refusals={400: "INVALID_PARAMETERS: the field at fault in `field`"},
    )


def routes(chat_deps: ChatDeps, agent_deps: AgentDeps, streams: StreamServices) -> list[Route]:
    spec = agent_endpoint(assistants(chat_deps, agent_deps)[AGENT])
    return [StreamRoute("/api/ag-ui/agent", serve(spec, streams), methods=["POST"], name=NAME,
                        operation=describe(spec, streaming=True))]
