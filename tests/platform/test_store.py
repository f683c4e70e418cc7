"""Repositories against a real wire-protocol MongoDB (nx-27017), over PyMongo's async client."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest
from pymongo.errors import DuplicateKeyError

from app.store.mongo import Store


@pytest.fixture
async def store(mongo_url: str) -> AsyncIterator[Store]:
    store = Store.connect(mongo_url, f"test_{uuid.uuid4().hex[:8]}", 2000)
    await store.ensure_indexes()
    yield store
    await store.client.drop_database(store.db.name)
    await store.close()


async def test_products_upsert_by_sku(store: Store) -> None:
    await store.products.upsert_many(
        [{"sku": "A1", "title": "Red lehenga", "price": 12000}, {"sku": "B2", "title": "Blue saree"}]
    )
    before = await store.products.get("A1")
    other = await store.products.get("B2")
    await store.products.upsert_many([{"sku": "A1", "title": "Crimson lehenga", "price": 11000}])
    assert await store.products.count() == 2
    after = await store.products.get("A1")
    assert after.pop("updated_at") > before["updated_at"]
    assert after == {"sku": "A1", "title": "Crimson lehenga", "price": 11000}
    changed = await store.products.changed_since(max(before["updated_at"], other["updated_at"]))
    assert [doc["sku"] for doc in changed] == ["A1"]
    assert sorted([p["sku"] async for p in store.products.all()]) == ["A1", "B2"]
    assert await store.products.delete("B2") is True
    assert await store.products.delete("B2") is False
    assert await store.products.get("B2") is None


async def test_sku_is_unique(store: Store) -> None:
    await store.products.collection.insert_one({"sku": "X", "title": "one"})
    with pytest.raises(DuplicateKeyError):
        await store.products.collection.insert_one({"sku": "X", "title": "two"})


async def test_conversation_messages_in_order(store: Store) -> None:
    conversation_id = await store.conversations.start(session_id="s-1")
    first = await store.conversations.add_message(conversation_id, "user", "red lehenga?")
    second = await store.conversations.add_message(conversation_id, "assistant", "", status="streaming")
    await store.conversations.update_message(second, content="Here are three.", status="complete")
    messages = await store.conversations.messages_of(conversation_id)
    assert [(m["_id"], m["role"], m["content"]) for m in messages] == [
        (first, "user", "red lehenga?"),
        (second, "assistant", "Here are three."),
    ]
    assert messages[1]["status"] == "complete"
    assert (await store.conversations.get(conversation_id))["session_id"] == "s-1"


async def test_context_files_and_chunks(store: Store) -> None:
    file_id = await store.context_files.insert({"name": "sizes.md", "sha256": "abc"})
    assert (await store.context_files.by_hash("abc"))["_id"] == file_id
    with pytest.raises(DuplicateKeyError):
        await store.context_files.insert({"name": "copy.md", "sha256": "abc"})
    await store.chunks.insert_many(
        [{"file_id": file_id, "index": i, "text": f"chunk {i}"} for i in (2, 0, 1)]
    )
    assert [c["index"] for c in await store.chunks.of_file(file_id)] == [0, 1, 2]
    assert await store.chunks.delete_of_file(file_id) == 3
    assert await store.context_files.delete(file_id) is True
    assert await store.context_files.list() == []


async def test_stale_answers_end_but_not_the_ones_still_streaming(store: Store) -> None:
    conversations = store.conversations
    conversations.instance_id = "me"
    conversation_id = await conversations.start()
    live = "a" * 32
    await conversations.start_answer(conversation_id, live)  # streaming here, now
    mine_gone = await conversations.add_message(conversation_id, "assistant", "", status="streaming",
                                                instance="me", expires_at=time.time() + 600)
    others = await conversations.add_message(conversation_id, "assistant", "", status="streaming",
                                             instance="other", expires_at=time.time() + 600)

    async def statuses() -> dict[str, str]:
        return {m["_id"]: m["status"] for m in await conversations.messages_of(conversation_id)}

    assert await conversations.end_stale_answers() == 1  # shared database: only my own gone one
    assert await statuses() == {live: "streaming", mine_gone: "interrupted", others: "streaming"}
    assert await conversations.end_stale_answers(alone=True) == 1  # nobody else writes here
    assert await statuses() == {live: "streaming", mine_gone: "interrupted", others: "interrupted"}
    conversations.answer_ended(live)
    assert await conversations.end_stale_answers(alone=True) == 1


async def test_deferred_answer_ends_land_only_on_streaming_records(store: Store) -> None:
    conversation_id = await store.conversations.start()
    await store.conversations.start_answer(conversation_id, "b" * 32)
    done = await store.conversations.add_message(conversation_id, "assistant", "all", status="complete")
    store.defer_answer_end("b" * 32, content="half", status="interrupted")
    store.defer_answer_end(done, content="", status="interrupted")
    assert await store.flush_deferred() == 2 and store.deferred == {}
    messages = {m["_id"]: (m["status"], m["content"]) for m in await store.conversations.messages_of(conversation_id)}
    assert messages == {"b" * 32: ("interrupted", "half"), done: ("complete", "all")}
