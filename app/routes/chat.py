"""The chat stream and its relatives.

    POST /api/chat/query/stream          {query, chatbotId?, sessionId?, enableTTS?, language?}
    GET  /api/chat/stream?message=&sessionId=&enableTTS=&language=   (for EventSource)
    POST /api/chat/query                 the same answer as one JSON document
    GET  /api/chat/conversations/{id}    history

The shopper's message is stored in `parse`, before the stream starts: a crash at any later
point cannot lose it, and `connected` already carries the conversation and message ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.chat.answer import ChatRequest, answer_events
from app.errors import BadRequest
from app.llm.language import SUPPORTED, detect_language, direction
from app.platform import Platform
from app.routes import params
from app.streams.endpoint import StreamEndpoint, stream_routes

MAX_QUERY = 4000


async def _start(request: Request, source: Mapping[str, Any], query_field: str) -> ChatRequest:
    query = params.text(source, query_field, max_len=MAX_QUERY)
    session_id = params.text(source, "sessionId", max_len=128, required=False) or None
    chatbot_id = params.text(source, "chatbotId", max_len=128, required=False) or None
    enable_tts = params.boolean(source, "enableTTS") or False
    language = params.text(source, "language", max_len=8, required=False).lower() or detect_language(query)
    if language not in SUPPORTED:
        raise BadRequest(f"language must be one of: {', '.join(SUPPORTED)}", field="language")
    platform: Platform = request.app.state.platform
    conversations = platform.require_store().conversations
    conversation = await conversations.by_session(session_id) if session_id else None
    conversation_id = conversation["_id"] if conversation else await conversations.start(
        session_id=session_id, chatbot_id=chatbot_id
    )
    message_id = await conversations.add_message(conversation_id, "user", query, language=language)
    return ChatRequest(query, conversation_id, message_id, language, enable_tts, chatbot_id)


async def parse_post(request: Request) -> ChatRequest:
    return await _start(request, await params.json_object(request), "query")


async def parse_get(request: Request) -> ChatRequest:
    return await _start(request, request.query_params, "message")


def _context(chat: ChatRequest) -> dict[str, Any]:
    return {"conversation_id": chat.conversation_id, "message_id": chat.user_message_id,
            "language": chat.language, "dir": direction(chat.language)}


_EVENTS = ("connected", "progress:retrieval", "results:sources", "results:product_cards?", "text*",
           "audio*", "results:suggestions", "complete", "close")
_BODY = {
    "type": "object",
    "required": ["query"],
    "properties": {
        "query": {"type": "string", "maxLength": MAX_QUERY},
        "chatbotId": {"type": "string"},
        "sessionId": {"type": "string", "description": "unknown or absent: a new conversation"},
        "enableTTS": {"type": "boolean", "default": False},
        "language": {"enum": list(SUPPORTED), "description": "default: detected from the query"},
    },
}

CHAT = StreamEndpoint(
    "chat", parse_post, answer_events, context=_context, detach=True,
    summary="Chat answer with sources, product cards, tokens and per-sentence audio",
    request_body=_BODY, events=_EVENTS,
)
CHAT_GET = StreamEndpoint(
    "chat_get", parse_get, answer_events, context=_context, detach=True,
    summary="Chat answer for EventSource clients (GET)",
    parameters=(
        {"name": "message", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "sessionId", "in": "query", "schema": {"type": "string"}},
        {"name": "enableTTS", "in": "query", "schema": {"type": "boolean"}},
        {"name": "language", "in": "query", "schema": {"enum": list(SUPPORTED)}},
    ),
    events=_EVENTS,
)


def message_json(message: dict[str, Any], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """A stored message as the history routes show it, with the `extra` fields it has."""
    created = message.get("created_at")
    return {
        "id": message["_id"],
        "role": message["role"],
        "content": message.get("content", ""),
        "status": message.get("status", "complete"),
        "created_at": created.isoformat() if hasattr(created, "isoformat") else created,
        **{k: message[k] for k in extra if k in message},
    }


async def conversation(request: Request) -> JSONResponse:
    platform: Platform = request.app.state.platform
    store = platform.require_store()
    conversation_id = request.path_params["conversation_id"]
    found = await store.conversations.get(conversation_id)
    if found is None:
        raise BadRequest("no such conversation", status=404, code="NOT_FOUND", field="conversation_id")
    messages = await store.conversations.messages_of(conversation_id, limit=500)
    return JSONResponse(
        {
            "conversation_id": conversation_id,
            "session_id": found.get("session_id"),
            "messages": [
                message_json(m, ("metadata", "sources", "products", "language")) for m in messages
            ],
        }
    )


conversation.__openapi__ = {  # type: ignore[attr-defined]
    "get": {"summary": "A conversation's messages", "responses": {"200": {"description": "messages"}}}
}


def routes(platform: Platform) -> list[Route]:
    return [
        *stream_routes(CHAT, platform, stream_path="/api/chat/query/stream",
                       json_path="/api/chat/query", methods=["POST"]),
        *stream_routes(CHAT_GET, platform, stream_path="/api/chat/stream", json_path=None, methods=["GET"]),
        Route("/api/chat/conversations/{conversation_id}", conversation, methods=["GET"]),
    ]
