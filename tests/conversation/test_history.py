"""The turns a model is shown: the last few before the message being answered."""

from __future__ import annotations

from typing import Any

from app.conversation.history import HISTORY_TURNS, recent_history
from app.llm.base import Message


class _Conversations:
    """The stored messages of one conversation, oldest first, as the repository returns them."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        self.asked: list[tuple[str, int]] = []

    async def messages_of(self, conversation_id: str, limit: int = 100) -> list[dict[str, Any]]:
        self.asked.append((conversation_id, limit))
        return self.messages[:limit]


class _Store:
    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.conversations = _Conversations(messages)


def _message(i: int, content: str | None = None) -> dict[str, Any]:
    return {"_id": f"m{i}", "role": "user" if i % 2 == 0 else "assistant",
            "content": f"turn {i}" if content is None else content}


async def test_the_message_being_answered_and_empty_answers_are_left_out() -> None:
    store = _Store([_message(0), _message(1, ""), _message(2), _message(3)])
    history = await recent_history(store, "c1", current_message_id="m2")  # type: ignore[arg-type]
    assert history == [Message("user", "turn 0"), Message("assistant", "turn 3")]
    assert store.conversations.asked == [("c1", 200)]


async def test_only_the_last_turns_are_kept_oldest_first() -> None:
    store = _Store([_message(i) for i in range(HISTORY_TURNS + 4)])
    history = await recent_history(store, "c1", current_message_id="none")  # type: ignore[arg-type]
    assert [m.content for m in history] == [f"turn {i}" for i in range(4, HISTORY_TURNS + 4)]
    assert HISTORY_TURNS == 6
