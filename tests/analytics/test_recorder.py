"""The analytics recorder and the report's pipelines against a real wire-protocol MongoDB
(nx-27017): a full buffer drops and counts without failing a search, a database outage keeps
what is buffered until it is back, retention is a TTL index whose lifetime follows the
setting, and the per-day figures come out of documents spread over several days."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from app.analytics.recorder import Recorder
from app.analytics.report import period_start, search_report
from app.store.database import Database
from app.store.mongo import Store
from app.store.repositories import FUNNEL, day_of, now
from app.store.state import DatabaseState
from app.streams.metrics import StreamMetrics


@pytest.fixture
async def store(mongo_url: str) -> AsyncIterator[Store]:
    store = Store.connect(mongo_url, f"analytics_{uuid.uuid4().hex[:8]}", 2000)
    await store.ensure_indexes()
    try:
        yield store
    finally:
        await store.client.drop_database(store.db.name)
        await store.close()


def database_of(store: Store) -> Database:
    state = DatabaseState(backend="test", retry_after_s=1)
    state.ok()
    database = Database(state)
    database.attach(store, None)
    return database


def dropped(metrics: StreamMetrics, kind: str) -> float:
    return metrics.analytics.labels(kind, "dropped")._value.get()


def click(query_id: str, position: int = 1) -> dict[str, object]:
    return {"type": "click", "query_id": query_id, "sku": "SKU-1", "position": position}


async def test_a_full_buffer_drops_and_counts_but_a_search_still_gets_its_id(store: Store) -> None:
    metrics = StreamMetrics()
    recorder = Recorder(database_of(store), metrics, capacity=3, flush_s=60)  # the writer is not started
    ids = [recorder.search(f"query {n}", 1, "search") for n in range(5)]
    assert len(set(ids)) == 5 and all(len(i) == 32 for i in ids)
    assert recorder.pending == 3 and dropped(metrics, "search") == 2
    assert recorder.events([click(ids[0])]) is False and dropped(metrics, "event") == 1
    assert await recorder.flush() and recorder.pending == 0
    assert recorder.events([click(ids[0]), click(ids[1])]) is True  # room again, all of a batch


async def test_an_outage_keeps_the_buffer_until_the_database_is_back(store: Store) -> None:
    database = database_of(store)
    recorder = Recorder(database, StreamMetrics(), capacity=100, flush_s=0.05)
    database.state.failed("test outage")
    recorder.start()
    try:
        query_id = recorder.search("red saree", 7, "search")
        recorder.events([click(query_id, 2)])
        assert await recorder.flush() is False and recorder.pending == 2  # nothing taken out
        database.state.ok()
        await recorder.wait_written()
    finally:
        await recorder.stop()
    assert await store.searches.collection.count_documents({"_id": query_id, "results": 7}) == 1
    [event] = await store.shopper_events.of_query(query_id)
    assert (event["type"], event["funnel"], event["position"]) == ("click", "click", 2)


def view(query_id: str, position: int) -> dict[str, object]:
    return {"type": "view", "query_id": query_id, "sku": f"SKU-{position}", "position": position}


async def test_a_searchs_views_in_one_request_are_one_document_read_back_as_events(store: Store) -> None:
    """The views a widget reports for one search's cards are stored together (the database's
    cost is per document); clicks stay one document each; readers see events either way, and
    the buffer's bound and the metrics count events, not documents."""
    metrics = StreamMetrics()
    recorder = Recorder(database_of(store), metrics, capacity=30, flush_s=60)  # the writer is not started
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    batch = [view(first, n) for n in range(1, 25)] + [click(first, 3), view(second, 1), view(second, 2)]
    assert recorder.events(batch) is True
    assert recorder.pending == 27 and len(recorder.events_waiting) == 3
    assert recorder.events([view(second, n) for n in range(3, 7)]) is False  # 31 events > 30, though 4 documents
    assert await recorder.flush() and recorder.pending == 0
    assert metrics.analytics.labels("event", "written")._value.get() == 27

    assert await store.shopper_events.collection.count_documents({}) == 3
    events = await store.shopper_events.of_query(first)
    assert sorted((e["type"], e["position"], e["sku"]) for e in events) == sorted(
        [("view", n, f"SKU-{n}") for n in range(1, 25)] + [("click", 3, "SKU-1")])
    assert all(e["funnel"] == e["type"] and e["query_id"] == first for e in events)
    views = await store.shopper_events.of_step(day_of(now()), "view", 100)
    assert len(views) == 26 and {e["query_id"] for e in views} == {first, second}
    assert len(await store.shopper_events.of_step(day_of(now()), "view", 5)) == 5  # a limit counts events


async def test_reading_the_newest_views_stops_at_the_limit(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Click learning asks for the newest N views; with a search's views in one document, N
    documents could be 100 N views in memory: the reader stops once it has N."""
    from app.store import repositories

    recorder = Recorder(database_of(store), StreamMetrics(), capacity=10_000, flush_s=60)
    for query_id in (uuid.uuid4().hex for _ in range(40)):
        assert recorder.events([view(query_id, n) for n in range(1, 25)])
    assert await recorder.flush() and await store.shopper_events.collection.count_documents({}) == 40
    spread = repositories.one_per_event
    read: list[int] = []
    monkeypatch.setattr(repositories, "one_per_event", lambda doc: read.append(1) or spread(doc))
    views = await store.shopper_events.of_step(day_of(now()), "view", 30)
    assert len(views) == 30 and len(read) == 2  # 24 + 24 views: two documents, not thirty


async def test_a_steady_trickle_is_written_in_whole_bulks(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Events arriving a few at a time are written a bulk at a time (or what a flush period
    gathered), not one small write per moment the writer is free: each write costs the app
    and the database a round trip and a commit. (Measured by bench/analytics_ingest.py: at
    5,000 events/s the writer made 134 writes a second of about 20 documents.)"""
    sizes: list[int] = []
    write = store.shopper_events.insert_many

    async def counted(docs: list[dict[str, object]]) -> None:
        sizes.append(len(docs))
        await asyncio.sleep(0.02)  # a database with other work: each write takes a while
        await write(docs)

    monkeypatch.setattr(store.shopper_events, "insert_many", counted)
    flush_s, batch = 0.4, 200
    recorder = Recorder(database_of(store), StreamMetrics(), capacity=100_000, flush_s=flush_s, batch=batch)
    query_id = uuid.uuid4().hex
    recorder.start()
    started = time.monotonic()
    try:
        for _ in range(100):  # 1,000 events over about a second
            recorder.events([click(query_id, n) for n in range(1, 11)])
            await asyncio.sleep(0.01)
        periods = (time.monotonic() - started) / flush_s
        await asyncio.wait_for(recorder.wait_written(), 10)
    finally:
        await asyncio.wait_for(recorder.stop(), 10)
    assert sum(sizes) == 1000
    assert len(sizes) <= 1000 // batch + math.ceil(periods) + 1, sizes


async def test_retention_is_a_ttl_index_that_follows_the_setting(mongo_url: str, store: Store) -> None:
    async def lifetime() -> int:
        """The TTL of the index on `at` (nx-27017 names it its own way)."""
        indexes = await store.shopper_events.collection.index_information()
        [ttl] = [i["expireAfterSeconds"] for i in indexes.values() if i["key"] == [("at", 1)]]
        return ttl

    assert await lifetime() == 90 * 86400
    shorter = Store.connect(mongo_url, store.db.name, 2000, analytics_retention_s=7 * 86400)
    try:
        await shorter.ensure_indexes()
    finally:
        await shorter.close()
    assert await lifetime() == 7 * 86400


async def test_the_report_per_day(store: Store) -> None:
    today = now()
    yesterday = today - timedelta(days=1)
    old = today - timedelta(days=10)  # outside a 7-day period
    searches, events = [], []
    for at, q, results, n in ((today, "silk saree", 12, 3), (yesterday, "silk saree", 12, 2),
                              (yesterday, "zzz", 0, 2), (old, "silk saree", 5, 4)):
        for _ in range(n):
            qid = uuid.uuid4().hex
            searches.append({"_id": qid, "q": q, "results": results, "source": "search", "at": at, "day": day_of(at)})
    ids_today = [s["_id"] for s in searches if s["at"] == today]
    ids_yesterday = [s["_id"] for s in searches if s["at"] == yesterday and s["results"]]

    def event(kind: str, qid: str, position: int, at: object) -> dict[str, object]:
        return {"type": kind, "query_id": qid, "sku": "S", "position": position, "funnel": FUNNEL[kind],
                "at": at, "day": day_of(at)}  # type: ignore[arg-type]

    events += [event("click", ids_today[0], 1, today), event("click", ids_today[0], 5, today),
               event("purchase", ids_today[1], 2, today), event("view", ids_today[2], 1, today),
               event("click", ids_yesterday[0], 3, yesterday), event("add_to_cart", ids_yesterday[0], 3, yesterday),
               event("click", searches[-1]["_id"], 9, old)]
    await store.searches.insert_many(searches)
    await store.shopper_events.insert_many(events)

    report = await search_report(store, 7, 5)
    assert report["period"]["since"] == day_of(period_start(7))
    day = {row["day"]: row for row in report["days"]}
    t, y = day[day_of(today)], day[day_of(yesterday)]
    assert (t["searches"], t["clicked_searches"], t["converted_searches"], t["clicks"]) == (3, 1, 1, 2)
    assert t["click_through_rate"] == round(1 / 3, 4) and t["mean_click_position"] == 3.0
    assert (y["searches"], y["no_results"], y["clicked_searches"], y["converted_searches"]) == (4, 2, 1, 1)
    assert y["click_through_rate"] == 0.25 and y["no_result_rate"] == 0.5
    totals = report["totals"]
    assert (totals["searches"], totals["clicks"], totals["clicked_searches"]) == (7, 3, 2)
    assert totals["mean_click_position"] == 3.0  # (1 + 5 + 3) / 3; the old click at 9 is outside
    assert report["top_queries"][0] == {"query": "silk saree", "count": 5, "mean_results": 12.0}
    assert report["no_result_queries"] == [{"query": "zzz", "count": 2, "mean_results": 0.0}]
