"""Start-up repair of answers left `streaming` by a process that died mid-answer.

Rule (app/store/repositories.py `Conversations.end_stale_answers`, docs/operations.md "Storage"): with the
embedded server (one app per DATA_DIR) every `streaming` answer becomes `interrupted` at start;
with a shared MONGODB_URL only those that cannot still be streaming on another instance: past
their `expires_at` (or, for records without one, older than STREAMING_TIMEOUT +
STREAM_DETACH_S + 30 s).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

from app.store.embedded import EmbeddedMongo
from tests.support.server import AppServer, isolated_env


def _answer(status: str = "streaming", **fields: Any) -> dict[str, Any]:
    return {"_id": uuid.uuid4().hex, "conversation_id": "c1", "role": "assistant", "content": "",
            "status": status, "created_at": datetime.now(UTC), **fields}


def _statuses(url: str, db: str, ids: list[str]) -> list[str]:
    with MongoClient(url, serverSelectionTimeoutMS=5000) as client:
        found = {d["_id"]: d["status"] for d in client[db]["messages"].find({"_id": {"$in": ids}})}
    return [found.get(i, "missing") for i in ids]


async def test_embedded_start_ends_every_streaming_answer(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = EmbeddedMongo(data_dir)
    url = server.start()
    now = time.time()
    records = [
        _answer(instance="gone", expires_at=now + 600),  # would still be running elsewhere: not here
        _answer(instance="gone", expires_at=now - 1),
        _answer(),  # from before records carried expires_at
        _answer("complete", content="done"),
    ]
    try:
        with MongoClient(url) as client:
            client["storestream"]["messages"].insert_many(records)
    finally:
        server.stop()
    ids = [r["_id"] for r in records]
    with AppServer({"MONGODB_URL": "", "DATA_DIR": str(data_dir)}, log_dir=tmp_path) as app:
        port = json.loads((data_dir / "mongo" / "server.json").read_text())["port"]
        assert _statuses(f"mongodb://127.0.0.1:{port}/?directConnection=true", "storestream", ids) == [
            "interrupted", "interrupted", "interrupted", "complete",
        ]
        assert "3 answers left 'streaming'" in app.log()


async def test_shared_database_start_ends_only_answers_that_cannot_be_running(
    mongo_url: str, tmp_path: Path
) -> None:
    env = isolated_env(mongo_url, tmp_path, "repair", STREAMING_TIMEOUT="30000", STREAM_DETACH_S="30")
    db = env["MONGODB_DB"]
    now = time.time()
    records = [
        _answer(instance="other", expires_at=now - 5),  # expired: nobody streams it any more
        _answer(instance="other", expires_at=now + 600),  # another instance may still stream it
        _answer(created_at=datetime.now(UTC) - timedelta(hours=1)),  # no expires_at, old
        _answer(),  # no expires_at, recent: may be running
        _answer("complete", content="done", expires_at=now - 5),
    ]
    with MongoClient(mongo_url) as client:
        client[db]["messages"].insert_many(records)
    ids = [r["_id"] for r in records]
    with AppServer(env, log_dir=tmp_path) as app:
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.get(f"{app.url}/healthz")).json()["checks"]["db"]["ready"] is True
        assert _statuses(mongo_url, db, ids) == [
            "interrupted", "streaming", "interrupted", "streaming", "complete",
        ]
