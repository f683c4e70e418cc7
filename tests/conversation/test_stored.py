"""What is stored for an assistant answer (`StoredAnswer`), the chat's and the agent's alike,
and how `spoken()` streams it: in process, against the real store, with the cancellation landing
exactly where it hurts (over HTTP: tests/chat/test_answer_records.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest

from app.conversation.stored import StoredAnswer, spoken
from app.store.mongo import Store

@pytest.fixture
async def store(mongo_url: str) -> AsyncIterator[Store]:
    store = Store.connect(mongo_url, f"answers_{uuid.uuid4().hex[:8]}", 2000, instance_id="me")
    await store.ensure_indexes()
    yield store
    await store.client.drop_database(store.db.name)
    await store.close()


class _SlowInsert:
    """The store's conversations, with a pause between sending the insert and its reply: the
    window in which a client that leaves cancels `StoredAnswer.start`."""

    def __init__(self, conversations: Any) -> None:
        self.inner = conversations
        self.sent = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def start_answer(self, conversation_id: str, message_id: str, **fields: Any) -> None:
        await self.inner.start_answer(conversation_id, message_id, **fields)
        self.sent.set()
        await asyncio.sleep(0.2)


async def test_a_start_cancelled_while_its_record_is_written_ends_it(store: Store) -> None:
    conversation_id = await store.conversations.start()
    slow = _SlowInsert(store.conversations)
    proxy = type("S", (), {"conversations": slow, "defer_answer_end": store.defer_answer_end})()
    task = asyncio.create_task(StoredAnswer.start(proxy, conversation_id, model="m"))
    await asyncio.wait_for(slow.sent.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    messages = await store.conversations.messages_of(conversation_id)
    assert [(m["role"], m["status"]) for m in messages] == [("assistant", "interrupted")]
    assert store.conversations.live == set()


async def test_every_other_end_of_a_started_answer_is_stored(store: Store) -> None:
    conversation_id = await store.conversations.start()

    async def answer(fail: BaseException | None) -> str:
        started = await StoredAnswer.start(store, conversation_id)
        async with started.kept("[t]"):
            started.text = "partial"
            if fail is not None:
                raise fail
            await started.complete()
        return started.id

    assert await answer(None)
    with pytest.raises(RuntimeError):
        await answer(RuntimeError("model broke"))
    task = asyncio.create_task(answer(asyncio.CancelledError()))
    with pytest.raises(asyncio.CancelledError):
        await task
    messages = await store.conversations.messages_of(conversation_id)
    assert [(m["status"], m["content"]) for m in messages] == [
        ("complete", "partial"), ("failed", "partial"), ("interrupted", "partial"),
    ]
    assert store.conversations.live == set()


# -- spoken(): the answer's pieces as events ---------------------------------------------------


async def _pieces(*words: str) -> AsyncIterator[str]:
    for word in words:
        yield word


class _Echo:
    """A speech engine whose audio is the sentence's text."""

    name = "echo"

    async def synthesize(self, text: str, lang: str) -> bytes:
        return text.encode()


async def _events(answer: StoredAnswer, tts: Any, *, speak: bool) -> list[Any]:
    async with asyncio.timeout(10):
        async with aclosing(spoken(answer, _pieces("Red saree. ", "In ", "stock."), tts, "en", speak=speak)) as out:
            return [event async for event in out]


async def test_every_piece_is_a_text_event_and_is_recorded_in_the_answer() -> None:
    answer = StoredAnswer(store=None, message_id="m1")  # type: ignore[arg-type]  # spoken() never writes
    events = await _events(answer, _Echo(), speak=False)
    assert [(e.type, e.data["token"], e.data["fullText"]) for e in events] == [
        ("text", "Red saree. ", "Red saree. "),
        ("text", "In ", "Red saree. In "),
        ("text", "stock.", "Red saree. In stock."),
    ]
    assert (answer.text, answer.pieces) == ("Red saree. In stock.", 3)


async def test_spoken_answers_get_one_audio_event_per_sentence_in_order() -> None:
    answer = StoredAnswer(store=None, message_id="m1")  # type: ignore[arg-type]
    events = await _events(answer, _Echo(), speak=True)
    audio = [e.data for e in events if e.type == "audio"]
    assert [(a["seq"], a["text"]) for a in audio] == [(1, "Red saree."), (2, "In stock.")]
    assert [e.type for e in events].index("audio") > [e.type for e in events].index("text")
    assert answer.text == "Red saree. In stock."


async def test_no_engine_means_no_audio_even_when_asked() -> None:
    answer = StoredAnswer(store=None, message_id="m1")  # type: ignore[arg-type]
    events = await _events(answer, None, speak=True)
    assert [e.type for e in events] == ["text", "text", "text"]
