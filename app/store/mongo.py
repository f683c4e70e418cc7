"""Connection to MongoDB through PyMongo's asyncio API (`AsyncMongoClient`).

Motor, named in the original design, reached end of life on 2026-05-14; its maintainers point
to PyMongo async, which has the same shape. Server selection is bounded by
`MONGODB_TIMEOUT_MS`, so an unreachable database fails a request quickly (`DB_UNAVAILABLE`)
instead of hanging it.
"""

from __future__ import annotations

import logging
from typing import Any

import pymongo
from pymongo import AsyncMongoClient

from pymongo.errors import OperationFailure

from app.store.repositories import (
    AgentSessions, Chunks, ContextFiles, Conversations, Merchandising, Products, SearchLog, ShopperEvents,
)

log = logging.getLogger("storestream.store")


MAX_DEFERRED = 10_000  # answer ends kept in memory through an outage (oldest dropped beyond)


def _client(url: str, timeout_ms: int) -> AsyncMongoClient:
    return AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        # An unreachable server is caught by server selection (MONGODB_TIMEOUT_MS); this
        # bounds one slow reply (reading 500k products from nx-27017 takes ~45 s a batch).
        socketTimeoutMS=max(timeout_ms * 5, 120_000),
        tz_aware=True,
        appname="storestream",
        # A burst (a thousand streams at once) grows the pool towards its 100 connections;
        # without this they would stay open for good (bench/faults.py: 7 -> 42 sockets).
        maxIdleTimeMS=60_000,
    )


async def _create_index(collection: Any, key: str, options: dict[str, Any]) -> None:
    """Create an index; a TTL index that exists with another lifetime (the retention setting
    changed) is given the new one in place (`collMod`), as MongoDB refuses a second one."""
    try:
        await collection.create_index(key, **options)
    except OperationFailure:
        if "expireAfterSeconds" not in options:
            raise
        await collection.database.command({
            "collMod": collection.name,
            "index": {"name": options["name"], "expireAfterSeconds": options["expireAfterSeconds"]},
        })


class Store:
    """The database and its repositories. Everything holds this object (or its repositories),
    never the client itself, so `rebind` can move all of them to a new server address."""

    def __init__(
        self, client: AsyncMongoClient, db_name: str, *, instance_id: str = "", answer_lifetime_s: float = 600.0,
        timeout_ms: int = 2000, analytics_retention_s: int = 90 * 86400,
    ) -> None:
        self.client = client
        self.timeout_ms = timeout_ms
        self.db = client[db_name]
        self.products = Products(self.db["products"])
        self.conversations = Conversations(
            self.db["conversations"], self.db["messages"], instance_id=instance_id,
            answer_lifetime_s=answer_lifetime_s,
        )
        self.context_files = ContextFiles(self.db["context_files"])
        self.chunks = Chunks(self.db["chunks"])
        self.agent_sessions = AgentSessions(self.db["agent_sessions"])
        self.searches = SearchLog(self.db["searches"], retention_s=analytics_retention_s)
        self.shopper_events = ShopperEvents(self.db["shopper_events"], retention_s=analytics_retention_s)
        self.merchandising = Merchandising(self.db["merchandising"])
        self.indexes_ready = False
        # message id -> the fields that end it, for answers that ended while the database
        # was unreachable (written by `flush_deferred` once it is back).
        self.deferred: dict[str, dict[str, Any]] = {}
        self._retired: list[AsyncMongoClient] = []

    @classmethod
    def connect(
        cls, url: str, db_name: str, timeout_ms: int, *, instance_id: str = "", answer_lifetime_s: float = 600.0,
        analytics_retention_s: int = 90 * 86400,
    ) -> Store:
        return cls(_client(url, timeout_ms), db_name, instance_id=instance_id,
                   answer_lifetime_s=answer_lifetime_s, timeout_ms=timeout_ms,
                   analytics_retention_s=analytics_retention_s)

    def rebind(self, url: str) -> None:
        """Talk to the server at `url` from now on (the embedded server came back on another
        port): a new client, and every repository's collections moved onto it in place, so
        whoever holds the store or a repository sees the new server. The old client is closed
        with the store (an operation still waiting on it fails as the server is gone)."""
        old, self.client = self.client, _client(url, self.timeout_ms)
        self._retired.append(old)
        self.db = self.client[self.db.name]
        self.products.collection = self.db["products"]
        self.conversations.conversations = self.db["conversations"]
        self.conversations.messages = self.db["messages"]
        self.context_files.collection = self.db["context_files"]
        self.chunks.collection = self.db["chunks"]
        self.agent_sessions.collection = self.db["agent_sessions"]
        self.searches.collection = self.db["searches"]
        self.shopper_events.collection = self.db["shopper_events"]
        self.merchandising.collection = self.db["merchandising"]
        log.info("database client moved to %s", url)

    def defer_answer_end(self, message_id: str, **fields: Any) -> None:
        """An answer's end that could not be written (the database is unreachable)."""
        self.deferred.pop(message_id, None)
        self.deferred[message_id] = fields
        while len(self.deferred) > MAX_DEFERRED:
            dropped = next(iter(self.deferred))
            del self.deferred[dropped]
            log.warning("deferred answer end %s dropped (more than %d kept); the repair will mark it",
                        dropped, MAX_DEFERRED)

    async def flush_deferred(self) -> int:
        """Write the deferred answer ends, onto records still `streaming`. Stops at the first
        connection failure (the rest stay deferred). Returns how many were written."""
        written = 0
        for message_id, fields in list(self.deferred.items()):
            await self.conversations.end_answer(message_id, only_streaming=True, **fields)
            self.deferred.pop(message_id, None)
            written += 1
        return written

    async def ping(self) -> None:
        """Bounded by MONGODB_TIMEOUT_MS in every case: a hung server (connections open, no
        replies) would otherwise hold a pooled connection's read for the socket timeout."""
        with pymongo.timeout(self.timeout_ms / 1000):
            await self.client.admin.command("ping")

    async def ensure_indexes(self) -> None:
        pairs = [
            (self.products.collection, self.products.indexes),
            (self.conversations.conversations, self.conversations.indexes),
            (self.conversations.messages, self.conversations.message_indexes),
            (self.context_files.collection, self.context_files.indexes),
            (self.chunks.collection, self.chunks.indexes),
            (self.searches.collection, self.searches.indexes),
            (self.shopper_events.collection, self.shopper_events.indexes),
            (self.merchandising.collection, self.merchandising.indexes),
        ]
        for collection, indexes in pairs:
            for key, options in indexes:
                await _create_index(collection, key, options)
        self.indexes_ready = True

    async def close(self) -> None:
        for client in (*self._retired, self.client):
            await client.close()
        self._retired.clear()
