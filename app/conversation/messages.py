"""A stored message as the history routes show it (the chat's conversations, the sales agent's
sessions): one shape for both, declared once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from app.contracts.fields import Payload
from app.store.mongo import Store

HISTORY_LIMIT = 500  # messages a history route shows, oldest first


class StoredMessage(Payload):
    id: str
    role: str = Field(description="user or assistant")
    content: str
    status: str = Field(description="complete, streaming, interrupted or failed")
    created_at: str | None = Field(description="ISO 8601")


def message_json(message: dict[str, Any], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """A stored message as the history routes show it, with the `extra` fields it has."""
    created = message.get("created_at")
    return {
        "id": message["_id"],
        "role": message["role"],
        "content": message.get("content", ""),
        "status": message.get("status", "complete"),
        "created_at": created.isoformat() if isinstance(created, datetime) else created,
        **{k: message[k] for k in extra if k in message},
    }


async def shown_messages(store: Store, conversation_id: str, extra: tuple[str, ...]) -> list[dict[str, Any]]:
    """A conversation's messages as the history routes show them (at most `HISTORY_LIMIT`)."""
    messages = await store.conversations.messages_of(conversation_id, limit=HISTORY_LIMIT)
    return [message_json(m, extra) for m in messages]
