"""What is stored for an assistant answer that does not complete: never `streaming` for ever.

Real uvicorn, real MongoDB (nx-27017), STREAM_DETACH_S=0 so a client that leaves cancels the
answer at once; the client closes its connection right after `progress` or `results`, before
any `text`.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from app.chat.stored import StoredAnswer
from app.store.mongo import Store
from tests.support.server import AppServer, wait_for_search

ROUNDS = 20
SETTLE_S = 15.0  # how long the answer may take to be stored as it ended


async def _leave_after(url: str, body: dict[str, Any], leave_on: str) -> dict[str, Any]:
    """Open the stream, read up to the first `leave_on` event, close the connection; the
    `connected` payload."""
    connected: dict[str, Any] = {}
    async with asyncio.timeout(15):
        async with httpx.AsyncClient(timeout=15) as client:
            async with client.stream("POST", url, json=body) as response:
                assert response.status_code == 200, await response.aread()
                kind = ""
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:") and kind == "connected":
                        connected = json.loads(line[5:])
                    elif line.startswith("data:") and kind == leave_on:
                        break
                    elif line.startswith("data:") and kind == "text":
                        break  # too late to test this round; the check below still holds
    return connected


async def _assistant_statuses(client: httpx.AsyncClient, url: str) -> list[str]:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    return [m["status"] for m in response.json()["messages"] if m["role"] == "assistant"]


async def _settled(server: AppServer, history_urls: list[str]) -> list[list[str]]:
    """Each conversation's assistant statuses, once none is `streaming` (or after SETTLE_S)."""
    deadline = time.monotonic() + SETTLE_S
    async with httpx.AsyncClient(timeout=10) as client:
        while True:
            statuses = [await _assistant_statuses(client, f"{server.url}{u}") for u in history_urls]
            if all("streaming" not in s for s in statuses) or time.monotonic() > deadline:
                return statuses
            await asyncio.sleep(0.2)


@pytest.fixture
def server(app_server: Callable[..., AppServer]) -> AppServer:
    app = app_server(STREAM_DETACH_S="0", DEMO_CATALOG_SIZE="300", STREAMING_RATE_LIMIT="100000",
                     TTS_ENGINE="off")
    wait_for_search(app, min_vectors=0)
    return app


async def test_a_chat_answer_left_before_its_first_token_is_stored_as_interrupted(server: AppServer) -> None:
    urls = []
    for i in range(ROUNDS):
        connected = await _leave_after(
            f"{server.url}/api/chat/query/stream", {"query": f"red silk saree under {2000 + i}"},
            "progress" if i % 2 else "results",
        )
        urls.append(f"/api/chat/conversations/{connected['conversation_id']}")
    statuses = await _settled(server, urls)
    stuck = [s for s in statuses if "streaming" in s]
    assert not stuck, f"{len(stuck)} of {ROUNDS} answers still 'streaming': {statuses}"
    assert all(set(s) <= {"interrupted", "complete"} for s in statuses), statuses


async def test_an_agent_answer_left_before_its_first_token_is_stored_as_interrupted(server: AppServer) -> None:
    urls = []
    for i in range(ROUNDS):
        connected = await _leave_after(
            f"{server.url}/api/troika/intelligent-chat/stream", {"message": f"blue kurta under {1500 + i}"},
            "results",
        )
        urls.append(f"/api/troika/sessions/{connected['session_id']}")
    statuses = await _settled(server, urls)
    stuck = [s for s in statuses if "streaming" in s]
    assert not stuck, f"{len(stuck)} of {ROUNDS} answers still 'streaming': {statuses}"
    assert all(set(s) <= {"interrupted", "complete"} for s in statuses), statuses


# -- in process, against the real store: the cancellation lands exactly where it hurts --------


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
