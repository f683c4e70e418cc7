"""A stored message as the chat's and the agent's history routes show it."""

from __future__ import annotations

from datetime import UTC, datetime

from app.conversation.messages import StoredMessage, message_json


def test_a_stored_message_is_shown_with_its_time_in_iso_and_only_the_extras_it_has() -> None:
    stored = {"_id": "m1", "conversation_id": "c1", "role": "assistant", "content": "Here are 4 sarees.",
              "status": "interrupted", "created_at": datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
              "metadata": {"tokens": 4}, "intent": "browse"}
    shown = message_json(stored, ("metadata", "products", "intent"))
    assert shown == {"id": "m1", "role": "assistant", "content": "Here are 4 sarees.", "status": "interrupted",
                     "created_at": "2026-05-01T09:30:00+00:00", "metadata": {"tokens": 4}, "intent": "browse"}
    StoredMessage.model_validate(shown)  # the declared shape of the history routes


def test_a_message_without_content_or_status_reads_as_empty_and_complete() -> None:
    shown = message_json({"_id": "m2", "role": "user", "created_at": None, "products": ["s1"]})
    assert shown == {"id": "m2", "role": "user", "content": "", "status": "complete", "created_at": None}
    assert StoredMessage.model_validate(shown).created_at is None
