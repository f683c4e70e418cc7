"""Connection to MongoDB through PyMongo's asyncio API (`AsyncMongoClient`).

Motor, named in the original design, reached end of life on 2026-05-14; its maintainers point
to PyMongo async, which has the same shape. Server selection is bounded by
`MONGODB_TIMEOUT_MS`, so an unreachable database fails a request quickly (`DB_UNAVAILABLE`)
instead of hanging it.
"""

from __future__ import annotations

import logging

from pymongo import AsyncMongoClient

from app.store.repositories import AgentSessions, Chunks, ContextFiles, Conversations, Products

log = logging.getLogger("storestream.store")


class Store:
    def __init__(self, client: AsyncMongoClient, db_name: str) -> None:
        self.client = client
        self.db = client[db_name]
        self.products = Products(self.db["products"])
        self.conversations = Conversations(self.db["conversations"], self.db["messages"])
        self.context_files = ContextFiles(self.db["context_files"])
        self.chunks = Chunks(self.db["chunks"])
        self.agent_sessions = AgentSessions(self.db["agent_sessions"])
        self.indexes_ready = False

    @classmethod
    def connect(cls, url: str, db_name: str, timeout_ms: int) -> Store:
        client: AsyncMongoClient = AsyncMongoClient(
            url,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            # An unreachable server is caught by server selection (MONGODB_TIMEOUT_MS); this
            # bounds one slow reply (reading 500k products from nx-27017 takes ~45 s a batch).
            socketTimeoutMS=max(timeout_ms * 5, 120_000),
            tz_aware=True,
            appname="storestream",
        )
        return cls(client, db_name)

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def ensure_indexes(self) -> None:
        pairs = [
            (self.products.collection, self.products.indexes),
            (self.conversations.conversations, self.conversations.indexes),
            (self.conversations.messages, [("conversation_id", {})]),
            (self.context_files.collection, self.context_files.indexes),
            (self.chunks.collection, self.chunks.indexes),
        ]
        for collection, indexes in pairs:
            for key, options in indexes:
                await collection.create_index(key, **options)
        self.indexes_ready = True

    async def close(self) -> None:
        await self.client.close()
