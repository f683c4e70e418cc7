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

from collections.abc import Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.agent.agent import AgentRequest, agent_events
from app.agent.memory import Memory
from app.errors import BadRequest
from app.platform import Platform
from app.routes import params
from app.routes.chat import message_json
from app.store.repositories import new_id
from app.streams.endpoint import StreamEndpoint, stream_routes

MAX_MESSAGE = 4000
MAX_BUDGET = 100_000_000
_TEXT_PREFERENCES = ("category", "brand", "occasion", "fabric", "gender")
_LIST_PREFERENCES = ("colors", "sizes")


def _nested(prefix: str, source: Mapping[str, Any], name: str, **options: Any) -> str:
    """`params.text` for a field inside an object, naming it `prefix.name` when refused."""
    try:
        return params.text(source, name, **options)
    except BadRequest as exc:
        raise BadRequest(f"{prefix}.{exc.message}", field=f"{prefix}.{name}") from None


def _customer(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest("customer must be an object", field="customer")
    unknown = sorted(set(value) - {"name", "budget", "preferences"})
    if unknown:
        raise BadRequest(f"customer has unknown field {unknown[0]!r}", field=f"customer.{unknown[0]}")
    out: dict[str, Any] = {}
    if name := _nested("customer", value, "name", max_len=100, required=False):
        out["name"] = name
    budget = value.get("budget")
    if budget is not None:
        if isinstance(budget, str) and budget.strip().replace(",", "").isdigit():
            budget = int(budget.strip().replace(",", ""))
        if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 < budget <= MAX_BUDGET:
            raise BadRequest(f"customer.budget must be a number of rupees between 1 and {MAX_BUDGET}",
                             field="customer.budget")
        out["budget"] = budget
    if value.get("preferences") is not None:
        out["preferences"] = _preferences(value["preferences"])
    return out


def _preferences(value: Any) -> dict[str, Any]:
    prefix = "customer.preferences"
    if not isinstance(value, dict):
        raise BadRequest(f"{prefix} must be an object", field=prefix)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in _TEXT_PREFERENCES:
            if text := _nested(prefix, value, key, max_len=60, required=False):
                out[key] = text.lower() if key != "brand" else text
        elif key in _LIST_PREFERENCES:
            items = [item] if isinstance(item, str) else item
            if not isinstance(items, list) or not all(isinstance(i, str) and 0 < len(i.strip()) <= 30 for i in items) \
                    or len(items) > 10:
                raise BadRequest(f"{prefix}.{key} must be a list of at most 10 short strings",
                                 field=f"{prefix}.{key}")
            out[key] = [i.strip().upper() if key == "sizes" else i.strip().lower() for i in items]
        else:
            allowed = ", ".join((*_TEXT_PREFERENCES, *_LIST_PREFERENCES))
            raise BadRequest(f"{prefix} has unknown field {key!r} (allowed: {allowed})", field=f"{prefix}.{key}")
    return out


async def parse(request: Request) -> AgentRequest:
    body = await params.json_object(request)
    unknown = sorted(set(body) - {"message", "sessionId", "customer", "enableTTS"})
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}", field=unknown[0])
    message = params.text(body, "message", max_len=MAX_MESSAGE)
    session_id = params.text(body, "sessionId", max_len=128, required=False) or None
    enable_tts = params.boolean(body, "enableTTS") or False
    customer = _customer(body.get("customer"))
    platform: Platform = request.app.state.platform
    store = platform.require_store()
    session = await store.agent_sessions.get(session_id) if session_id else None
    if session is None:
        session_id = session_id or new_id()
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
    assert session_id is not None
    conversation_id = session["conversation_id"]
    message_id = await store.conversations.add_message(conversation_id, "user", message)
    return AgentRequest(
        message=message,
        session_id=session_id,
        conversation_id=conversation_id,
        user_message_id=message_id,
        customer=session.get("customer") or {},
        memory=Memory.from_doc(session.get("memory")),
        enable_tts=enable_tts,
    )


def _context(request: AgentRequest) -> dict[str, Any]:
    return {"session_id": request.session_id, "conversation_id": request.conversation_id,
            "message_id": request.user_message_id, "language": "en", "dir": "ltr"}


_EVENTS = ("connected", "results:intent", "progress:tool*", "results:market_intelligence?",
           "results:product_cards?", "results:comparison?", "results:stock?", "text*", "audio*",
           "results:suggestions", "complete", "close")
_BODY = {
    "type": "object",
    "required": ["message"],
    "additionalProperties": False,
    "properties": {
        "message": {"type": "string", "maxLength": MAX_MESSAGE},
        "sessionId": {"type": "string", "description": "unknown or absent: a new session"},
        "enableTTS": {"type": "boolean", "default": False},
        "customer": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"},
                "budget": {"type": "number", "description": "price ceiling in rupees"},
                "preferences": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        **{k: {"type": "string"} for k in _TEXT_PREFERENCES},
                        **{k: {"type": "array", "items": {"type": "string"}} for k in _LIST_PREFERENCES},
                    },
                },
            },
        },
    },
}

TROIKA = StreamEndpoint(
    "troika", parse, agent_events, context=_context, detach=True,
    summary="Sales agent turn: intent, tool use, market intelligence, product cards, answer and audio",
    request_body=_BODY, events=_EVENTS,
)


async def session(request: Request) -> JSONResponse:
    platform: Platform = request.app.state.platform
    store = platform.require_store()
    session_id = request.path_params["session_id"]
    found = await store.agent_sessions.get(session_id)
    if found is None:
        raise BadRequest("no such session", status=404, code="NOT_FOUND", field="session_id")
    messages = await store.conversations.messages_of(found["conversation_id"], limit=500)
    return JSONResponse({
        "session_id": session_id,
        "conversation_id": found["conversation_id"],
        "customer": found.get("customer") or {},
        "memory": Memory.from_doc(found.get("memory")).to_doc(),
        "messages": [message_json(m, ("intent", "products", "tools", "metadata")) for m in messages],
    })


session.__openapi__ = {  # type: ignore[attr-defined]
    "get": {"summary": "What the sales agent remembers of a session, and its messages",
            "responses": {"200": {"description": "session"}, "404": {"description": "unknown session"}}}
}


def routes(platform: Platform) -> list[Route]:
    return [
        *stream_routes(TROIKA, platform, stream_path="/api/troika/intelligent-chat/stream",
                       json_path="/api/troika/intelligent-chat", methods=["POST"]),
        Route("/api/troika/sessions/{session_id}", session, methods=["GET"]),
    ]
