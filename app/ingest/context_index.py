"""The in-memory index of uploaded context: chunk embeddings by chunk id, for retrieval.

Built from the store at start-up (after the products index, in the platform's background
task) and kept current by uploads and deletes, so a chunk is searchable as soon as its
upload sends `complete`. Embedded chunks live in memory (vector + text + position: a 20 MB
upload costs about 15 MB of vectors and 25 MB of text), because `search` is synchronous: a
chat producer calls it inline, `documents.search(question, k)`, with no await for a
database round trip. There is no in-memory BM25 over chunks on purpose: the products'
TextIndex keeps a posting per (term, document), hundreds of MB for 10,000 chunks of 512
tokens.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from bson import Binary

from app.ingest.embed import embed_chunks
from app.search.embedder import DIM, MODEL_ID, Embedder
from app.search.index_state import IndexLife, IndexState
from app.search.vector_index import VectorIndex

if TYPE_CHECKING:
    from app.store.mongo import Store

log = logging.getLogger("storestream.ingest")

BUILD_BATCH = 4096
EMBED_BATCH = 32


def chunk_id(file_id: str, index: int) -> str:
    return f"{file_id}:{index}"


def vector_of(doc: dict[str, Any]) -> np.ndarray | None:
    raw = doc.get("embedding")
    if doc.get("embedding_model") != MODEL_ID or not isinstance(raw, (bytes, Binary)):
        return None
    vector = np.frombuffer(bytes(raw), dtype=np.float32)
    return vector if vector.shape == (DIM,) else None


def as_binary(vector: np.ndarray) -> Binary:
    return Binary(np.asarray(vector, dtype=np.float32).tobytes())


QUERY_CACHE = 256

# (file_id, index, text, page, start, end, tokens): a tuple, not a dict, per chunk in memory
Record = tuple[str, int, str, "int | None", int, int, int]


def record_of(doc: dict[str, Any]) -> Record:
    return (doc["file_id"], doc["index"], doc["text"], doc.get("page"), doc["start"], doc["end"], doc["tokens"])


@dataclass(frozen=True, slots=True)
class FileEntry:
    name: str
    title: str
    chatbot_id: str | None
    chunks: int


def public_chunk(doc: dict[str, Any], entry: FileEntry | None = None) -> dict[str, Any]:
    out = {"id": doc["_id"], **{k: v for k, v in doc.items() if k not in ("_id", "embedding", "embedding_model")}}
    if entry is not None:
        out["file_name"] = entry.name
        out["title"] = entry.title
        out["chatbot_id"] = entry.chatbot_id
    return out


class ContextIndex(IndexLife):
    def __init__(self, embedder: Embedder | None, *, exact_max: int) -> None:
        super().__init__()
        self.embedder = embedder
        self.vectors = VectorIndex(dim=DIM, exact_max=exact_max)
        self.files: dict[str, FileEntry] = {}
        self.records: dict[str, Record] = {}  # chunk id -> what a hit returns
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self.pending: set[str] = set()  # uploads writing chunks right now (not orphans)
        self._removed: set[str] = set()  # deleted while the build was reading

    @property
    def searchable(self) -> bool:
        return self.embedder is not None and self.embedder.ready and len(self.vectors) > 0

    # -- building ----------------------------------------------------------------------------

    async def build(self, store: Store) -> None:
        """Load every file's stored chunk vectors; delete chunks whose file is gone (an upload
        that crashed before committing); embed chunks stored without a vector."""
        self._state = IndexState.BUILDING
        async for doc in store.context_files.all():
            self.files[doc["_id"]] = _entry(doc)
        ids: list[str] = []
        rows: list[np.ndarray] = []
        missing: list[str] = []
        orphans: set[str | None] = set()  # None: a chunk without a file (removed as well)
        async for doc in store.chunks.all():
            file_id = doc.get("file_id")
            if file_id in self.pending or file_id in self._removed:
                continue
            if file_id not in self.files:
                orphans.add(file_id)
                continue
            vector = vector_of(doc)
            if vector is None:
                missing.append(doc["_id"])
                continue
            ids.append(doc["_id"])
            rows.append(vector)
            self.records[doc["_id"]] = record_of(doc)
            if len(ids) >= BUILD_BATCH:
                self._add_rows(ids, rows)
                ids, rows = [], []
        self._add_rows(ids, rows)
        for file_id in orphans - self.pending:
            await store.chunks.delete_of_file(file_id)
        self._removed.clear()
        self._state = IndexState.READY
        log.info("context index: %d files, %d chunk vectors, %d orphan files removed, %d to embed",
                 len(self.files), len(self.vectors), len(orphans), len(missing))
        if missing and self.embedder is not None and self.embedder.ready:
            await self._embed_missing(store, missing)

    def _add_rows(self, ids: list[str], rows: list[np.ndarray]) -> None:
        live = [(cid, row) for cid, row in zip(ids, rows) if cid.partition(":")[0] in self.files]
        for cid in ids:
            if cid.partition(":")[0] not in self.files:
                self.records.pop(cid, None)
        if live:
            self.vectors.add([cid for cid, _ in live], np.vstack([row for _, row in live]))

    async def _embed_missing(self, store: Store, missing: list[str]) -> None:
        """Chunks uploaded while embeddings were off get their vectors once the model is on."""
        assert self.embedder is not None
        for start in range(0, len(missing), EMBED_BATCH):
            docs = await store.chunks.by_ids(missing[start : start + EMBED_BATCH])
            docs = [d for d in docs if d.get("file_id") in self.files]
            if not docs:
                continue
            matrix = await embed_chunks(self.embedder, docs)
            await store.chunks.set_embeddings({d["_id"]: as_binary(v) for d, v in zip(docs, matrix)}, MODEL_ID)
            self.records.update((d["_id"], record_of(d)) for d in docs)
            self._add_rows([d["_id"] for d in docs], list(matrix))
        log.info("context index: embedded %d stored chunks", len(missing))

    # -- keeping current ---------------------------------------------------------------------

    def add_file(
        self, file_id: str, entry: FileEntry, records: list[Record], matrix: np.ndarray | None
    ) -> None:
        """A committed upload: its chunks become searchable at once (if it has vectors)."""
        self.files[file_id] = entry
        if matrix is not None and records:
            ids = [chunk_id(file_id, r[1]) for r in records]
            self.records.update(zip(ids, records))
            self.vectors.add(ids, matrix)

    def remove_file(self, file_id: str) -> None:
        entry = self.files.pop(file_id, None)
        if self._state is IndexState.BUILDING:
            self._removed.add(file_id)
        if entry is not None:
            for index in range(entry.chunks):
                self.vectors.remove(chunk_id(file_id, index))
                self.records.pop(chunk_id(file_id, index), None)

    # -- reading -----------------------------------------------------------------------------

    def search(
        self, query: str, k: int = 5, *, chatbot_id: str | None = None
    ) -> list[tuple[dict[str, Any], float]]:
        """The `k` chunks closest to `query` (cosine, best first), optionally only those of one
        chatbot's files; [] while there is no model or nothing is indexed.

        Synchronous, for a chat producer to call inline: the query is embedded in the calling
        thread (about 12 ms on one torch thread; the last QUERY_CACHE queries are cached).
        `asearch` embeds on the model's worker thread instead."""
        if not self._can_search(query, k):
            return []
        return self._hits(self._query_vector(query), k, chatbot_id)

    async def asearch(
        self, query: str, k: int = 5, *, chatbot_id: str | None = None
    ) -> list[tuple[dict[str, Any], float]]:
        if not self._can_search(query, k):
            return []
        assert self.embedder is not None
        return self._hits(await self.embedder.query(query), k, chatbot_id)

    def _can_search(self, query: str, k: int) -> bool:
        return bool(query.strip()) and k > 0 and self.searchable

    def _query_vector(self, query: str) -> np.ndarray:
        assert self.embedder is not None
        key = query.strip().lower()
        vector = self._queries.get(key)
        if vector is None:
            vector = self.embedder.encode([key])[0]
            self._queries[key] = vector
            if len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        self._queries.move_to_end(key)
        return vector

    def _hits(self, vector: np.ndarray, k: int, chatbot_id: str | None) -> list[tuple[dict[str, Any], float]]:
        candidates: set[str] | None = None
        if chatbot_id is not None:
            candidates = {
                chunk_id(file_id, i)
                for file_id, entry in self.files.items() if entry.chatbot_id == chatbot_id
                for i in range(entry.chunks)
            }
            if not candidates:
                return []
        out = []
        for cid, score in self.vectors.search(vector, k, candidates):
            record = self.records.get(cid)
            if record is None:
                continue
            file_id, index, text, page, start, end, tokens = record
            doc = {"_id": cid, "file_id": file_id, "index": index, "text": text, "page": page,
                   "start": start, "end": end, "tokens": tokens}
            out.append((public_chunk(doc, self.files.get(file_id)), score))
        return out


def _entry(doc: dict[str, Any]) -> FileEntry:
    return FileEntry(doc.get("name", ""), doc.get("title", ""), doc.get("chatbot_id"), int(doc.get("chunks", 0)))
