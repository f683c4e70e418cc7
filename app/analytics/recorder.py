"""The analytics recorder: searches and shopper events held in memory and written in bulk by
one background task, so neither a search nor `POST /api/events` ever waits on the database.

- A search calls `search(...)` (no I/O: a dict appended to a list) and gets its `query_id`.
- `POST /api/events` calls `events(...)`: all of a batch is admitted, or none of it, as its
  documents (the views of one search together: `event_documents`).
- The writer writes whole bulks (`batch` documents of a kind, one unordered `insert_many` each)
  as soon as one is waiting, and what is left once every ANALYTICS_FLUSH_MS. Never a bulk of
  whatever came in while the last write was under way: each write costs the app and the
  database a round trip and a commit (at 5,000 events/s that made 134 writes a second of
  about 20 records; bench/analytics_ingest.py).
- The database down: records stay buffered and the writer tries again (every flush period);
  a write cut off mid-way is retried whole, and what had landed is recognised by its `_id`
  (the duplicates are refused by the server, the rest written).
- The buffer full (ANALYTICS_BUFFER_SIZE records waiting): new records are dropped, counted
  in `storestream_analytics_records_total{outcome="dropped"}`, logged once per episode; a
  search goes on unaffected, `POST /api/events` answers 503 ANALYTICS_BUSY.
- At shutdown what is buffered is written, within a bound.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from bson import ObjectId
from pymongo.errors import BulkWriteError, ConnectionFailure

from app.search.clicks import query_key
from app.store.database import Database
from app.store.repositories import day_of, event_documents, events_in, now
from app.streams.metrics import StreamMetrics

log = logging.getLogger("storestream.analytics")

Doc = dict[str, Any]
BATCH = 1000  # documents per insert_many (measured: bench/analytics_ingest.py)
MAX_QUERY = 200  # characters of a query kept
_DUPLICATE = 11000


def new_query_id() -> str:
    return uuid.uuid4().hex


def normalise(query: str) -> str:
    """The query as the report groups it and click learning keys it (`query_key`: case and
    spacing aside), at most MAX_QUERY characters."""
    return query_key(query)[:MAX_QUERY]


def _only_duplicates(exc: BulkWriteError) -> bool:
    errors = exc.details.get("writeErrors", [])
    return bool(errors) and all(e.get("code") == _DUPLICATE for e in errors)


class Recorder:
    def __init__(self, database: Database, metrics: StreamMetrics, *, capacity: int, flush_s: float,
                 batch: int = BATCH) -> None:
        self.database = database
        self.capacity = capacity
        self.flush_s = flush_s
        self.batch = batch
        self._written = {kind: metrics.analytics.labels(kind, "written") for kind in ("search", "event")}
        self._dropped = {kind: metrics.analytics.labels(kind, "dropped") for kind in ("search", "event")}
        self.searches: list[Doc] = []
        self.events_waiting: list[Doc] = []  # documents: the views of one search are one
        self._records = {"search": 0, "event": 0}  # what the lists hold, in searches and events
        self._full = False  # an episode of drops is being logged
        self._everything = False  # wait_written: write what is waiting now, whole bulks or not
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def pending(self) -> int:
        """Records waiting: searches and events (not documents: the buffer's bound and the
        metrics count what shoppers did)."""
        return sum(self._records.values())

    def _room(self, kind: str, n: int) -> bool:
        if self.pending + n <= self.capacity:
            if self._full:
                self._full = False
                log.info("analytics buffer has room again")
            return True
        self._dropped[kind].inc(n)
        if not self._full:
            self._full = True
            log.warning("analytics buffer full (%d records waiting, ANALYTICS_BUFFER_SIZE): new records are "
                        "dropped until the database takes them", self.pending)
        return False

    def _bulk_ready(self) -> bool:
        return len(self.searches) >= self.batch or len(self.events_waiting) >= self.batch

    def _queued(self) -> None:
        self._idle.clear()
        if self._bulk_ready():
            self._wake.set()

    def search(self, query: str, results: int, source: str, *, query_id: str | None = None) -> str:
        """Record a search (no I/O) and return its `query_id`: the id the results carry and
        shopper events name."""
        query_id = query_id or new_query_id()
        if self._room("search", 1):
            at = now()
            self.searches.append({"_id": query_id, "q": normalise(query), "results": results, "source": source,
                                  "at": at, "day": day_of(at)})
            self._records["search"] += 1
            self._queued()
        return query_id

    def events(self, events: list[Doc]) -> bool:
        """Admit shopper events (`type`, `query_id`, `sku`, `position`), all or none."""
        if not self._room("event", len(events)):
            return False
        at = now()
        self.events_waiting.extend(event_documents(events, at, day_of(at)))
        self._records["event"] += len(events)
        self._queued()
        return True

    # -- the writer ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="analytics-writer")

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Write what is buffered (within `timeout_s`), then stop the writer."""
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        try:
            await asyncio.wait_for(self._drain(), timeout_s)
        except (TimeoutError, ConnectionFailure):
            log.warning("%d analytics records not written at shutdown", self.pending)

    async def _drain(self) -> None:
        while self.pending:
            if not await self.flush():
                return

    async def wait_written(self) -> None:
        """Until everything admitted so far is written (tests, benchmarks)."""
        self._everything = True
        self._wake.set()
        await self._idle.wait()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            period_ends = loop.time() + self.flush_s
            while not self._everything:
                try:
                    # Not wait_for: on Python 3.11 it returns, rather than raise, when it is
                    # cancelled (stop()) just as the event it waits for is set.
                    async with asyncio.timeout_at(period_ends):
                        await self._wake.wait()
                except TimeoutError:
                    break
                self._wake.clear()
                if self._bulk_ready():
                    await self._write(whole=True)
            self._wake.clear()
            self._everything = False
            await self._write(whole=False)
            if not self.pending:
                self._idle.set()

    async def _write(self, *, whole: bool) -> None:
        """Write the whole bulks waiting (`whole`), or everything waiting: what is waiting
        now, not what comes in while it is written (that is the next bulk's)."""
        rounds = 1 + max(len(self.searches), len(self.events_waiting)) // self.batch
        try:
            while rounds and (self._bulk_ready() if whole else self.pending) and await self.flush(whole=whole):
                rounds -= 1
        except ConnectionFailure as exc:
            self.database.state.suspect()
            log.debug("analytics write deferred: %s", type(exc).__name__)
        except Exception:  # noqa: BLE001 - the writer must outlive any one bad write
            log.exception("analytics write failed")

    async def flush(self, *, whole: bool = False) -> bool:
        """Write one bulk of each kind (`whole`: of each kind with a whole bulk waiting); False
        when the database is known to be down (nothing taken out of the buffer then). A
        connection failure (or the writer being stopped) mid-write puts the bulk back; any
        other failure drops it, counted."""
        if self.database.state.down or self.database.connected is None:
            return False
        store = self.database.store
        for kind, waiting, repository in (("search", self.searches, store.searches),
                                          ("event", self.events_waiting, store.shopper_events)):
            if not waiting or (whole and len(waiting) < self.batch):
                continue
            bulk = waiting[: self.batch]
            for doc in bulk:
                if "_id" not in doc:
                    doc["_id"] = ObjectId()  # so a retried bulk is recognised
            del waiting[: len(bulk)]
            records = sum(map(events_in, bulk))  # a search is one document, one record
            self._records[kind] -= records
            try:
                await repository.insert_many(bulk)
            except BulkWriteError as exc:
                if not _only_duplicates(exc):
                    self._dropped[kind].inc(records)
                    log.warning("analytics: %d %s records refused by the database (%s)", records, kind,
                                exc.details.get("writeErrors", [{}])[0].get("errmsg", "?"))
                    continue
            except (ConnectionFailure, asyncio.CancelledError):
                waiting[:0] = bulk  # written again later (or at shutdown): nothing is lost
                self._records[kind] += records
                raise
            except Exception:  # noqa: BLE001 - a bulk the database cannot take is not retried forever
                self._dropped[kind].inc(records)
                log.exception("analytics: %d %s records could not be written", records, kind)
                continue
            self._written[kind].inc(records)
        return True
