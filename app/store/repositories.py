"""Repositories: the only code that knows collection names and document shapes.

Each takes an `AsyncCollection` (PyMongo's asyncio API) and exposes the few operations the
endpoints need. `indexes()` lists what `Store.ensure_indexes` creates at start-up.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

IndexSpec = tuple[str, dict[str, Any]]  # (field, create_index options), made by Store.ensure_indexes

Doc = dict[str, Any]


def now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def _past(seconds: float) -> datetime:
    return datetime.fromtimestamp(time.time() - seconds, UTC)


def product_from_store(doc: Doc) -> Doc:
    """A stored product with its fields' own types back. nx-27017 stores a boolean that `$set`
    writes into an existing document as 1/0 (a new document keeps it), so `in_stock` would
    read as a number after any update; the catalog's type for it is bool."""
    stock = doc.get("in_stock")
    if isinstance(stock, int) and not isinstance(stock, bool):
        doc["in_stock"] = stock != 0
    return doc


class Products:
    """Catalog products, keyed by `sku`. Every read goes through `product_from_store`."""

    indexes: list[IndexSpec] = [("sku", {"unique": True}), ("category", {}), ("updated_at", {})]

    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def upsert_many(self, products: Iterable[Doc]) -> int:
        """Insert or replace by `sku`; returns how many products were written.

        `updated_at` is Unix seconds, not a date: nx-27017 stores a date written by `$set`
        on an existing document as text, and range queries on it then fail.
        """
        stamp = time.time()
        # A distinct stamp per document, so a reader paging by `updated_at` never splits a tie.
        ops = [
            UpdateOne({"sku": p["sku"]}, {"$set": {**p, "updated_at": stamp + i * 1e-6}}, upsert=True)
            for i, p in enumerate(products)
        ]
        if not ops:
            return 0
        result = await self.collection.bulk_write(ops, ordered=False)
        return result.upserted_count + result.matched_count

    async def changed_since(self, since: float, limit: int = 5000) -> list[Doc]:
        """Products written after `since` (by this process or another, e.g. an import),
        oldest first, at most `limit`: call again from the last one's `updated_at`."""
        cursor = self.collection.find({"updated_at": {"$gt": since}}).sort("updated_at", ASCENDING)
        return [product_from_store(doc) for doc in await cursor.to_list(limit)]

    async def insert_many(self, products: list[Doc]) -> int:
        """Fast path for loading into an empty catalog (no per-document upsert)."""
        if not products:
            return 0
        stamp = time.time()
        for i, product in enumerate(products):
            product.setdefault("updated_at", stamp + i * 1e-6)
        result = await self.collection.insert_many(products, ordered=False)
        return len(result.inserted_ids)

    async def get(self, sku: str) -> Doc | None:
        doc = await self.collection.find_one({"sku": sku}, {"_id": 0})
        return None if doc is None else product_from_store(doc)

    async def delete(self, sku: str) -> bool:
        return (await self.collection.delete_one({"sku": sku})).deleted_count == 1

    async def count(self) -> int:
        return await self.collection.count_documents({})

    async def estimated_count(self) -> int:
        """From collection metadata: instant where an exact count scans (progress logs)."""
        return await self.collection.estimated_document_count()

    async def all(self, batch_size: int = 1000) -> AsyncIterator[Doc]:
        async for doc in self.collection.find({}, {"_id": 0}, batch_size=batch_size):
            yield product_from_store(doc)


class Conversations:
    """Conversations and their messages (one document per message, so none grows unbounded).

    An assistant's answer is stored `streaming` before its first word (`start_answer`) and
    ends `complete`, `interrupted` or `failed`. A `streaming` record carries the instance
    that streams it and `expires_at` (Unix seconds): the latest it can still be streaming,
    `answer_lifetime_s` after it began (STREAMING_TIMEOUT + STREAM_DETACH_S + a margin).
    `end_stale_answers` turns those that cannot be streaming any more into `interrupted`.
    """

    indexes: list[IndexSpec] = [("session_id", {})]
    message_indexes: list[IndexSpec] = [("conversation_id", {}), ("status", {})]

    def __init__(
        self,
        conversations: AsyncCollection,
        messages: AsyncCollection,
        *,
        instance_id: str = "",
        answer_lifetime_s: float = 600.0,
    ) -> None:
        self.conversations = conversations
        self.messages = messages
        self.instance_id = instance_id
        self.answer_lifetime_s = answer_lifetime_s
        self.live: set[str] = set()  # answers this process is streaming now (start_answer .. end)

    async def start(self, session_id: str | None = None, **meta: Any) -> str:
        conversation_id = new_id()
        await self.conversations.insert_one(
            {"_id": conversation_id, "session_id": session_id or conversation_id, "created_at": now(), **meta}
        )
        return conversation_id

    async def get(self, conversation_id: str) -> Doc | None:
        return await self.conversations.find_one({"_id": conversation_id})

    async def by_session(self, session_id: str) -> Doc | None:
        return await self.conversations.find_one({"session_id": session_id})

    async def add_message(
        self, conversation_id: str, role: str, content: str, *, message_id: str | None = None, **fields: Any
    ) -> str:
        message_id = message_id or new_id()
        await self.messages.insert_one(
            {
                "_id": message_id,
                "conversation_id": conversation_id,
                "role": role,
                "content": content,
                "created_at": now(),
                **fields,
            }
        )
        return message_id

    async def update_message(self, message_id: str, **fields: Any) -> None:
        await self.messages.update_one({"_id": message_id}, {"$set": fields})

    async def start_answer(self, conversation_id: str, message_id: str, **fields: Any) -> None:
        """The assistant's answer as it starts streaming (`live` until `answer_ended`)."""
        self.live.add(message_id)
        await self.add_message(
            conversation_id, "assistant", "", message_id=message_id, status="streaming",
            instance=self.instance_id, expires_at=time.time() + self.answer_lifetime_s, **fields,
        )

    def answer_ended(self, message_id: str) -> None:
        self.live.discard(message_id)

    async def end_answer(self, message_id: str, *, only_streaming: bool = False, **fields: Any) -> bool:
        """Store how an answer ended; with `only_streaming`, only if nothing else ended it
        meanwhile (a write deferred through an outage). True when a record was changed."""
        query: Doc = {"_id": message_id}
        if only_streaming:
            query["status"] = "streaming"
        result = await self.messages.update_one(query, {"$set": fields})
        return result.modified_count == 1

    async def end_stale_answers(self, *, alone: bool = False) -> int:
        """Answers still `streaming` that cannot be streaming any more become `interrupted`.
        `alone`: no other process streams answers into this database (the embedded server:
        one app per DATA_DIR), so every one this process is not streaming now. Otherwise
        (a shared MONGODB_URL): those past their `expires_at`, whoever wrote them, and this
        process's own that it no longer streams; another instance's answer is left alone
        until it expires. Returns how many."""
        now = time.time()
        query: Doc = {"role": "assistant", "status": "streaming"}
        if alone:
            query["_id"] = {"$nin": sorted(self.live)}
        else:
            query["$or"] = [
                {"expires_at": {"$lt": now}},
                {"instance": self.instance_id, "_id": {"$nin": sorted(self.live)}},
                # Written before records carried `expires_at`: by their age.
                {"expires_at": {"$exists": False}, "created_at": {"$lt": _past(self.answer_lifetime_s)}},
            ]
        result = await self.messages.update_many(
            query, {"$set": {"status": "interrupted", "ended_by": "repair", "ended_at": now}}
        )
        return result.modified_count

    async def messages_of(self, conversation_id: str, limit: int = 100) -> list[Doc]:
        cursor = self.messages.find({"conversation_id": conversation_id}).sort("created_at", ASCENDING)
        return await cursor.to_list(limit)


class AgentSessions:
    """The sales agent's memory per shopper session: what they prefer (size, colours, budget,
    occasion...), the products already shown (in order, so "the first two" resolves), the
    last intent. The messages themselves live in `Conversations` under `conversation_id`."""

    indexes: list[tuple[str, dict[str, Any]]] = []

    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def get(self, session_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": session_id})

    async def create(self, session_id: str, conversation_id: str, customer: Doc | None) -> Doc:
        doc = {"_id": session_id, "conversation_id": conversation_id, "customer": customer or {},
               "memory": {}, "created_at": time.time(), "updated_at": time.time()}
        await self.collection.insert_one(doc)
        return doc

    async def save(self, session_id: str, **fields: Any) -> None:
        """`$set` the given top-level fields (memory, customer) and the update time."""
        await self.collection.update_one({"_id": session_id}, {"$set": {**fields, "updated_at": time.time()}})


class ContextFiles:
    """Uploaded context documents (metadata; their text lives in `Chunks`)."""

    indexes: list[IndexSpec] = [("sha256", {"unique": True})]

    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def insert(self, doc: Doc) -> str:
        file_id = doc.get("_id") or new_id()
        await self.collection.insert_one({**doc, "_id": file_id, "created_at": now()})
        return file_id

    async def get(self, file_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": file_id})

    async def by_hash(self, sha256: str) -> Doc | None:
        return await self.collection.find_one({"sha256": sha256})

    async def list(self, limit: int = 500) -> list[Doc]:
        return await self.collection.find({}).sort("created_at", -1).to_list(limit)

    async def all(self) -> AsyncIterator[Doc]:
        async for doc in self.collection.find({}):
            yield doc

    async def delete(self, file_id: str) -> bool:
        return (await self.collection.delete_one({"_id": file_id})).deleted_count == 1


class Chunks:
    """Chunks of context files with their embeddings, for retrieval."""

    indexes: list[IndexSpec] = [("file_id", {})]

    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def insert_many(self, chunks: list[Doc]) -> int:
        if not chunks:
            return 0
        result = await self.collection.insert_many(chunks, ordered=True)
        return len(result.inserted_ids)

    async def of_file(self, file_id: str, limit: int = 0, skip: int = 0, *, vectors: bool = True) -> list[Doc]:
        projection = None if vectors else {"embedding": 0}
        cursor = self.collection.find({"file_id": file_id}, projection).sort("index", ASCENDING).skip(skip)
        return await cursor.to_list(limit or None)

    async def by_ids(self, ids: list[str]) -> list[Doc]:
        """Chunks by `_id` (without their embeddings), in no particular order."""
        return await self.collection.find({"_id": {"$in": ids}}, {"embedding": 0}).to_list(None)

    async def delete_of_file(self, file_id: str | None) -> int:
        return (await self.collection.delete_many({"file_id": file_id})).deleted_count

    async def set_embeddings(self, vectors: dict[str, Any], model: str) -> None:
        """Store computed embeddings (bson Binary float32) on existing chunks."""
        ops = [UpdateOne({"_id": cid}, {"$set": {"embedding": v, "embedding_model": model}})
               for cid, v in vectors.items()]
        if ops:
            await self.collection.bulk_write(ops, ordered=False)

    async def all(self, projection: Doc | None = None, batch_size: int = 1000) -> AsyncIterator[Doc]:
        async for doc in self.collection.find({}, projection, batch_size=batch_size):
            yield doc


def day_of(at: datetime) -> str:
    """The UTC day a search or an event counts for in the report."""
    return at.strftime("%Y-%m-%d")


def _ttl(retention_s: int) -> IndexSpec:
    """Documents go `retention_s` after their `at` (MongoDB's TTL monitor; nx-27017 purges on
    reads)."""
    return ("at", {"expireAfterSeconds": retention_s, "name": "at_ttl"})


async def _counted(collection: AsyncCollection, pipeline: list[Doc]) -> list[Doc]:
    return await (await collection.aggregate(pipeline)).to_list(None)


_NO_TRANSACTIONS = 20  # IllegalOperation: a standalone mongod has no transactions


class BulkLog:
    """A collection written only in bulk (insert_many of the analytics recorder), each bulk in
    one transaction where the server has them: all of it or none lands (a retried bulk cannot
    half-duplicate), and nx-27017 commits once per bulk instead of once per document. A
    standalone mongod refuses transactions: plain unordered bulks from then on."""

    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection
        self.transactions = True

    async def insert_many(self, docs: list[Doc]) -> int:
        if not docs:
            return 0
        if self.transactions:
            try:
                async with self.collection.database.client.start_session() as session:
                    async with await session.start_transaction():
                        await self.collection.insert_many(docs, ordered=False, session=session)
                return len(docs)
            except OperationFailure as exc:
                if exc.code != _NO_TRANSACTIONS and "replica set" not in str(exc):
                    raise
                self.transactions = False
        result = await self.collection.insert_many(docs, ordered=False)
        return len(result.inserted_ids)


class SearchLog(BulkLog):
    """One document per search: `_id` the search's `query_id`, the normalised query text `q`,
    how many products matched (`results`), where it ran (`source`), when (`at`, `day`).
    Written in bulk by the analytics recorder, never on a search's path."""

    def __init__(self, collection: AsyncCollection, *, retention_s: int) -> None:
        super().__init__(collection)
        # The TTL index alone: each index costs every insert (the report scans the period).
        self.indexes: list[IndexSpec] = [_ttl(retention_s)]

    async def top(self, since: str, limit: int, *, no_results: bool = False) -> list[Doc]:
        """The most frequent queries from the day `since` (YYYY-MM-DD, UTC; by the stored `day`,
        as nx-27017 does not compare dates inside a pipeline) on (only those that found nothing, with
        `no_results`): `{_id: q, count, results}` (`results`: the mean count found)."""
        match: Doc = {"day": {"$gte": since}}
        if no_results:
            match["results"] = 0
        return await _counted(self.collection, [
            {"$match": match},
            {"$group": {"_id": "$q", "count": {"$sum": 1}, "results": {"$avg": "$results"}}},
            {"$sort": {"count": -1, "_id": 1}},
            {"$limit": limit},
        ])

    async def queries(self, query_ids: Iterable[str], batch: int = 1000) -> dict[str, str]:
        """query_id -> the query, of the recorded searches among `query_ids` (read `batch` ids a
        time: only the searches the caller needs, not the whole period's)."""
        ids = list(dict.fromkeys(query_ids))
        out: dict[str, str] = {}
        for start in range(0, len(ids), batch):
            rows = await self.collection.find({"_id": {"$in": ids[start:start + batch]}}, {"q": 1}).to_list(None)
            out.update((str(row["_id"]), str(row.get("q", ""))) for row in rows)
        return out

    async def per_day(self, since: str, *, no_results: bool = False) -> list[Doc]:
        """`{_id: day, count}` of the searches since `since` (only those that found nothing)."""
        match: Doc = {"day": {"$gte": since}}
        if no_results:
            match["results"] = 0
        return await _counted(self.collection, [
            {"$match": match}, {"$group": {"_id": "$day", "count": {"$sum": 1}}}, {"$sort": {"_id": 1}},
        ])


FUNNEL = {"view": "view", "click": "click", "add_to_cart": "conversion", "purchase": "conversion"}


def event_documents(events: Iterable[Doc], at: datetime, day: str) -> list[Doc]:
    """The documents of one request's events: each click, add-to-cart and purchase its own;
    the views of one search together, as `items` (`{sku, position}` each). A widget reports a
    search's 24 cards in one request, and the database's cost is per document (nx-27017:
    about 60 us each through the bulk path, against 8 us an event in documents of 25;
    bench/analytics_ingest.py), while no report counts views: only click learning reads
    them, through `one_per_event`."""
    docs: list[Doc] = []
    views: dict[str, Doc] = {}
    for e in events:
        if e["type"] != "view":
            docs.append({**e, "funnel": FUNNEL[e["type"]], "at": at, "day": day})
        elif (seen := views.get(e["query_id"])) is not None:
            seen["items"].append({"sku": e["sku"], "position": e["position"]})
        else:
            views[e["query_id"]] = doc = {"type": "view", "funnel": "view", "query_id": e["query_id"],
                                          "items": [{"sku": e["sku"], "position": e["position"]}], "at": at, "day": day}
            docs.append(doc)
    return docs


def events_in(doc: Doc) -> int:
    return len(doc["items"]) if "items" in doc else 1


def one_per_event(doc: Doc) -> list[Doc]:
    """A stored document as the events it holds (views stored together are spread out;
    any other document, or a view stored alone by an earlier version, is one event)."""
    items = doc.get("items")
    if items is None:
        return [doc]
    rest = {k: v for k, v in doc.items() if k not in ("items", "_id")}
    return [{**rest, **item} for item in items]


class ShopperEvents(BulkLog):
    """What shoppers did with a search's results: `type` (view, click, add_to_cart,
    purchase), its `funnel` step (view, click, conversion: one equality to match, where
    `$in` over two types is slow on nx-27017), `query_id`, `sku`, `position` (from 1), `at`,
    `day`; the views of one search in one request as one document (`items`: `{sku,
    position}` each; `event_documents`). Written in bulk by the analytics recorder."""

    def __init__(self, collection: AsyncCollection, *, retention_s: int) -> None:
        super().__init__(collection)
        self.indexes: list[IndexSpec] = [_ttl(retention_s)]

    async def of_query(self, query_id: str) -> list[Doc]:
        docs = await self.collection.find({"query_id": query_id}, {"_id": 0}).sort("at", ASCENDING).to_list(None)
        return [event for doc in docs for event in one_per_event(doc)]

    async def searches_per_day(self, since: str, funnel: str) -> list[Doc]:
        """`{_id: day, count}`: distinct searches with at least one event of the `funnel` step
        per day (the day of their first such event)."""
        return await _counted(self.collection, [
            {"$match": {"day": {"$gte": since}, "funnel": funnel}},
            {"$group": {"_id": "$query_id", "day": {"$min": "$day"}}},
            {"$group": {"_id": "$day", "count": {"$sum": 1}}},
            {"$sort": {"_id": 1}},
        ])

    async def of_step(self, since: str, funnel: str, limit: int) -> list[Doc]:
        """`{query_id, sku, position}` of the `funnel` step's events from the day `since` on,
        the newest `limit` (what click learning reads). Read a document at a time until there
        are `limit`: a document may hold a request's worth of views (ANALYTICS_BATCH_MAX), so
        `limit` documents could be a hundred times `limit` events."""
        cursor = self.collection.find({"day": {"$gte": since}, "funnel": funnel},
                                      {"_id": 0, "query_id": 1, "sku": 1, "position": 1, "items": 1}).sort("at", -1)
        events: list[Doc] = []
        async with cursor:
            async for doc in cursor.limit(limit):
                events += one_per_event(doc)
                if len(events) >= limit:
                    break
        return events[:limit]

    async def clicks_per_day(self, since: str) -> list[Doc]:
        """`{_id: day, count, position}`: clicks per day and their mean position."""
        return await _counted(self.collection, [
            {"$match": {"day": {"$gte": since}, "funnel": "click"}},
            {"$group": {"_id": "$day", "count": {"$sum": 1}, "position": {"$avg": "$position"}}},
            {"$sort": {"_id": 1}},
        ])


class Merchandising:
    """A merchant's synonyms and search rules, one document each: `{_id, kind: "synonym" |
    "rule", ..., updated_at}`. Few (hundreds), read whole by every instance on each sync."""

    indexes: list[IndexSpec] = [("updated_at", {})]

    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def all(self) -> list[Doc]:
        return await self.collection.find({}).sort("_id", ASCENDING).to_list(None)

    async def count(self, kind: str) -> int:
        return await self.collection.count_documents({"kind": kind})

    async def has(self, kind: str, item_id: str) -> bool:
        return await self.collection.count_documents({"_id": f"{kind}:{item_id}"}, limit=1) == 1

    async def put(self, kind: str, item_id: str, fields: Doc) -> bool:
        """Insert or replace `item_id`; True when it is new."""
        key = f"{kind}:{item_id}"
        # `_id` in the document too: nx-27017 inserts an upsert under a new ObjectId otherwise
        doc = {**fields, "_id": key, "kind": kind, "updated_at": time.time()}
        result = await self.collection.replace_one({"_id": key}, doc, upsert=True)
        return result.matched_count == 0

    async def delete(self, kind: str, item_id: str) -> bool:
        return (await self.collection.delete_one({"_id": f"{kind}:{item_id}"})).deleted_count == 1

    async def changed(self) -> tuple[int, float]:
        """(how many, the latest write): what a sync compares to know whether to read again."""
        count = await self.collection.count_documents({})
        latest = await self.collection.find({}, {"updated_at": 1}).sort("updated_at", -1).limit(1).to_list(1)
        return count, latest[0]["updated_at"] if latest else 0.0
