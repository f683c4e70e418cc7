"""The turns of a conversation a model is shown before the message it answers."""

from __future__ import annotations

from app.llm.base import Message
from app.store.mongo import Store

HISTORY_TURNS = 6


async def recent_history(store: Store, conversation_id: str, current_message_id: str) -> list[Message]:
    """The last turns of a conversation before the message being answered."""
    stored = await store.conversations.messages_of(conversation_id, limit=200)
    turns = [m for m in stored if m["_id"] != current_message_id and m.get("content")]
    return [Message(m["role"], m["content"]) for m in turns[-HISTORY_TURNS:]]
