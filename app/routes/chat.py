"""The chat stream and its relatives.

    POST /api/chat/query/stream          {query, chatbotId?, sessionId?, enableTTS?, language?}
    GET  /api/chat/stream?message=&sessionId=&enableTTS=&language=   (for EventSource)
    POST /api/chat/query                 the same answer as one JSON document
    GET  /api/chat/conversations/{id}    history

The shopper's message is stored in `parse`, before the stream starts: a crash at any later
point cannot lose it, and `connected` already carries the conversation and message ids.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from pydantic import Field
from starlette.requests import Request
from starlette.routing import Route

from app.chat.answer import ChatDeps, ChatRequest, answer_events
from app.contracts.fields import Flag, OpenContract, Payload, QBool, QChoice, QueryContract, Text, example
from app.contracts.openapi import ApiRoute
from app.conversation.messages import StoredMessage, shown_messages
from app.language.detect import SUPPORTED, detect_language, direction
from app.responses import JSONResponse
from app.routes.history import record_operation, stored_record
from app.store.database import Database
from app.streams.endpoint import StreamEndpoint, stream_routes
from app.streams.services import StreamServices

MAX_QUERY = 4000


class ChatBody(OpenContract):
    """`POST /api/chat/query[/stream]` (unknown fields are ignored)."""

    model_config = example(query="blue kurta under 2000")

    query: Annotated[str, Text(MAX_QUERY, min_len=1, description="the shopper's question")]
    chatbotId: Annotated[str, Text(128)] | None = None  # noqa: N815 - the wire names
    sessionId: Annotated[str, Text(128, description="unknown or absent: a new conversation")] | None = None  # noqa: N815
    enableTTS: Flag | None = Field(default=None, description="speak the answer (audio events); default false")  # noqa: N815
    language: Annotated[str, QChoice(SUPPORTED, description="default: detected from the query")] | None = None


class ChatQuery(QueryContract):
    """`GET /api/chat/stream` (for EventSource, which can only GET)."""

    model_config = example(message="blue kurta under 2000")

    message: Annotated[str, Text(MAX_QUERY, min_len=1, description="the shopper's question")]
    sessionId: Annotated[str, Text(128, description="unknown or absent: a new conversation")] | None = None  # noqa: N815
    chatbotId: Annotated[str, Text(128)] | None = None  # noqa: N815
    enableTTS: QBool | None = None  # noqa: N815
    language: Annotated[str, QChoice(SUPPORTED, description="default: detected from the message")] | None = None


async def start_chat(database: Database, query: str, session_id: str | None, chatbot_id: str | None,
                 enable_tts: bool | None, language: str | None) -> ChatRequest:
    session_id = session_id or None
    chatbot_id = chatbot_id or None
    language = language or detect_language(query)
    conversations = database.require().conversations
    conversation = await conversations.by_session(session_id) if session_id else None
    conversation_id = conversation["_id"] if conversation else await conversations.start(
        session_id=session_id, chatbot_id=chatbot_id
    )
    message_id = await conversations.add_message(conversation_id, "user", query, language=language)
    return ChatRequest(query, conversation_id, message_id, language, bool(enable_tts), chatbot_id)


async def parse_post(database: Database, request: Request, args: ChatBody) -> ChatRequest:
    return await start_chat(database, args.query, args.sessionId, args.chatbotId, args.enableTTS, args.language)


async def parse_get(database: Database, request: Request, args: ChatQuery) -> ChatRequest:
    return await start_chat(database, args.message, args.sessionId, args.chatbotId, args.enableTTS, args.language)


def _context(chat: ChatRequest) -> dict[str, Any]:
    return {"conversation_id": chat.conversation_id, "message_id": chat.user_message_id,
            "language": chat.language, "dir": direction(chat.language)}


_EVENTS = ("connected", "progress:retrieval", "results:sources", "results:product_cards?", "text*",
           "audio*", "results:suggestions", "complete", "close")


def chat_endpoints(deps: ChatDeps) -> tuple[StreamEndpoint[ChatRequest], StreamEndpoint[ChatRequest]]:
    """The chat answer, POSTed and (for EventSource) by GET."""
    produce = partial(answer_events, deps)
    post = StreamEndpoint(
        "chat", partial(parse_post, deps.database), produce, context=_context, detach=True,
        body=ChatBody,
        summary="Chat answer with sources, product cards, tokens and per-sentence audio",
        events=_EVENTS,
    )
    get = StreamEndpoint(
        "chat_get", partial(parse_get, deps.database), produce, context=_context, detach=True,
        query=ChatQuery,
        summary="Chat answer for EventSource clients (GET)",
        events=_EVENTS,
    )
    return post, get


class ConversationPath(QueryContract):
    model_config = example(conversation_id="0b9d6c1e5f2a4e7d8c3b1a0f9e8d7c6b")  # the form; a real one 404s

    conversation_id: Annotated[str, Text(128, min_len=1, description="`connected.conversation_id` of a chat stream")]


class Conversation(Payload):
    conversation_id: str
    session_id: str | None
    messages: list[StoredMessage] = Field(description="oldest first, at most 500; assistant answers carry "
                                          "metadata, sources and products")


async def conversation(database: Database, request: Request) -> JSONResponse:
    store, conversation_id, started = await stored_record(
        database, request, ConversationPath, lambda store, key: store.conversations.get(key), "conversation")
    return JSONResponse({
        "conversation_id": conversation_id,
        "session_id": started.get("session_id"),
        "messages": await shown_messages(store, conversation_id, ("metadata", "sources", "products", "language")),
    })


CONVERSATION = record_operation("A conversation's messages", ConversationPath, Conversation, "conversation")


def routes(deps: ChatDeps, streams: StreamServices) -> list[Route]:
    post, get = chat_endpoints(deps)
    return [
        *stream_routes(post, streams, stream_path="/api/chat/query/stream",
                       json_path="/api/chat/query", methods=["POST"]),
        *stream_routes(get, streams, stream_path="/api/chat/stream", json_path=None, methods=["GET"]),
        ApiRoute("/api/chat/conversations/{conversation_id}", partial(conversation, deps.database), methods=["GET"],
                 operation=CONVERSATION),
    ]
