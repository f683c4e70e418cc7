"""The Troika sales agent.

    POST /api/troika/intelligent-chat/stream   {message, sessionId?, customer?, enableTTS?}
    POST /api/troika/intelligent-chat          the same turn as one JSON document
    GET  /api/troika/sessions/{session_id}     what the agent remembers, and the messages

`customer` is optional: `{name?, budget?, preferences?}`, where `budget` is a price ceiling in
rupees and `preferences` holds any of category, brand, colors, sizes, occasion, fabric, gender
(strings, or lists for colors and sizes). A session is created on the first message (its id
comes back in `connected` and `complete`); the shopper's message is stored before the stream
starts, so a crash at any later point cannot lose it.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pymongo.errors import DuplicateKeyError
from starlette.requests import Request
from starlette.routing import Route

from app.agent.agent import AgentDeps, AgentRequest, agent_events
from app.agent.memory import Memory
from app.language.reading import in_english, language_of
from app.contracts.fields import Contract, Flag, Payload, QueryContract, Text, example, fail
from app.contracts.openapi import ApiRoute
from app.conversation.messages import StoredMessage, shown_messages
from app.language.detect import direction
from app.responses import JSONResponse
from app.routes.history import record_operation, stored_record
from app.search.constraints import Filters
from app.store.database import Database
from app.store.repositories import new_id
from app.streams.endpoint import StreamEndpoint, stream_routes
from app.streams.services import StreamServices

MAX_MESSAGE = 4000
MAX_BUDGET = 100_000_000
_RUPEES = re.compile(r"[0-9]{1,3}(?:,?[0-9]{2,3})*")  # "20000", "20,000", "2,00,000": ASCII digits only


def _budget(value: Any) -> Any:
    """A number of rupees, or its text in ASCII digits with thousands separators ("20,000")."""
    if isinstance(value, str):
        if not _RUPEES.fullmatch(text := value.strip()) or len(text) > 15:
            raise fail("budget", f"must be a number of rupees between 1 and {MAX_BUDGET}")
        return int(text.replace(",", ""))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail("budget", f"must be a number of rupees between 1 and {MAX_BUDGET}")
    if not 0 < value <= MAX_BUDGET:  # NaN fails this too
        raise fail("budget", f"must be a number of rupees between 1 and {MAX_BUDGET}")
    return value


Budget = Annotated[
    float,
    Field(gt=0, le=MAX_BUDGET, description="a price ceiling in rupees: a number, or its digits (\"20,000\")"),
    BeforeValidator(_budget, json_schema_input_type=Annotated[float, Field(gt=0, le=MAX_BUDGET)]
                    | Annotated[str, Field(pattern=f"^{_RUPEES.pattern}$", max_length=15)]),
]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Preference = Annotated[str, Text(60)]
Choices = Annotated[
    list[Annotated[str, Text(30, min_len=1)]],
    Field(max_length=10, description="a list of at most 10, or one string"),
    BeforeValidator(_one_or_many, json_schema_input_type=list[str] | str),
]


class Preferences(Contract):
    """What every search starts from (a message's own words win over these)."""

    category: Preference | None = None
    brand: Preference | None = None
    occasion: Preference | None = None
    fabric: Preference | None = None
    gender: Preference | None = None
    colors: Choices | None = None
    sizes: Choices | None = None

    def filters(self) -> Filters:
        """In the catalog's spelling, as the agent searches with them."""
        return Filters.from_dict(self.model_dump(exclude_none=True)).spelled()


class Customer(Contract):
    name: Annotated[str, Text(100)] | None = None
    budget: Budget | None = None
    preferences: Preferences | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.budget is not None:
            out["budget"] = int(self.budget) if float(self.budget).is_integer() else self.budget
        if self.preferences is not None:
            out["preferences"] = self.preferences.filters().as_dict()
        return out


class TroikaBody(Contract):
    """`POST /api/troika/intelligent-chat[/stream]`: unknown fields are refused."""

    model_config = example(message="shaadi ke liye red lehenga 20k tak", sessionId="demo-shopper",
                           customer={"name": "Asha", "budget": 20000})

    message: Annotated[str, Text(MAX_MESSAGE, min_len=1, description="the shopper's message")]
    sessionId: Annotated[str, Text(128, description="unknown or absent: a new session")] | None = None  # noqa: N815
    customer: Customer | None = None
    enableTTS: Flag | None = None  # noqa: N815


async def parse(database: Database, request: Request, args: TroikaBody) -> AgentRequest:
    message = args.message
    session_id = args.sessionId or new_id()  # unknown or absent: a new session (by that id)
    enable_tts = bool(args.enableTTS)
    customer = args.customer.as_dict() if args.customer is not None else {}
    store = database.require()
    session = await store.agent_sessions.get(session_id) if args.sessionId else None
    if session is None:
        conversation_id = await store.conversations.start(session_id=session_id, chatbot_id="troika")
        try:
            session = await store.agent_sessions.create(session_id, conversation_id, customer)
        except DuplicateKeyError:  # a parallel first message created it
            session = await store.agent_sessions.get(session_id)
            assert session is not None
    elif customer:
        merged = {**(session.get("customer") or {}), **customer}
        await store.agent_sessions.save(session_id, customer=merged)
        session["customer"] = merged
    conversation_id = session["conversation_id"]
    language = language_of(message)  # the turn's reading, once: everything downstream takes it
    message_id = await store.conversations.add_message(conversation_id, "user", message, language=language)
    return AgentRequest(
        message=message,
        language=language,
        english=in_english(message),
        session_id=session_id,
        conversation_id=conversation_id,
        user_message_id=message_id,
        customer=session.get("customer") or {},
        memory=Memory.from_doc(session.get("memory")),
        enable_tts=enable_tts,
    )


def _context(request: AgentRequest) -> dict[str, Any]:
    """`connected`'s context: the answer's language and direction, as the chat's."""
    return {"session_id": request.session_id, "conversation_id": request.conversation_id,
            "message_id": request.user_message_id, "language": request.language, "dir": direction(request.language)}


_EVENTS = ("connected", "results:intent", "progress:tool*", "results:market_intelligence?",
           "results:product_cards?", "results:comparison?", "results:stock?", "text*", "audio*",
           "results:suggestions", "complete", "close")


def troika_endpoint(deps: AgentDeps) -> StreamEndpoint[AgentRequest]:
    return StreamEndpoint(
        "troika", partial(parse, deps.database), partial(agent_events, deps), context=_context, detach=True,
        body=TroikaBody,
        summary="Sales agent turn: intent, tool use, market intelligence, product cards, answer and audio",
        events=_EVENTS,
    )


class SessionPath(QueryContract):
    model_config = example(session_id="demo-shopper")  # the session TroikaBody's example starts

    session_id: Annotated[str, Text(128, min_len=1, description="the `sessionId` sent, or `connected.session_id`")]


class AgentSession(Payload):
    session_id: str
    conversation_id: str
    customer: dict[str, Any]
    memory: dict[str, Any] = Field(description="the current search's filters, the products shown, the last intent")
    messages: list[StoredMessage]


async def session(database: Database, request: Request) -> JSONResponse:
    store, session_id, held = await stored_record(
        database, request, SessionPath, lambda store, key: store.agent_sessions.get(key), "session")
    return JSONResponse({
        "session_id": session_id,
        "conversation_id": held["conversation_id"],
        "customer": held.get("customer") or {},
        "memory": Memory.from_doc(held.get("memory")).to_doc(),
        "messages": await shown_messages(store, held["conversation_id"], ("intent", "products", "tools", "metadata")),
    })


SESSION = record_operation("What the sales agent remembers of a session, and its messages", SessionPath,
                           AgentSession, "session")


def routes(deps: AgentDeps, streams: StreamServices) -> list[Route]:
    return [
        *stream_routes(troika_endpoint(deps), streams, stream_path="/api/troika/intelligent-chat/stream",
                       json_path="/api/troika/intelligent-chat", methods=["POST"]),
        ApiRoute("/api/troika/sessions/{session_id}", partial(session, deps.database), methods=["GET"],
                 operation=SESSION),
    ]
