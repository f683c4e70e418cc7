"""Search analytics ingestion: a million shopper events through `POST /api/events` on a real
app, with search latency measured before and during it, then the report over them, then the
store's bulk path alone.

    .venv/bin/python -m bench.analytics_ingest                      # 1,000,000 events each way
    .venv/bin/python -m bench.analytics_ingest --events 100000 --store-events 100000   # quicker
    .venv/bin/python -m bench.analytics_ingest --events 200000 --store-events 0 --rate 1000 \
        --out bench/results/analytics_ingest_1000.json    # search p50 at an offered 1,000 events/s

Setup: one nx-27017 server (`EmbeddedMongo`, a temp dir); the real app (`app.main:create_app`
under uvicorn, `AppServer`) on it with a generated 5,000-product catalog, words only
(SEARCH_EMBEDDINGS=false: the search path measured is the in-memory text index), rate limits
out of the way (STREAMING_RATE_LIMIT and ANALYTICS_RATE_LIMIT 10^8), everything else default
(ANALYTICS_BUFFER_SIZE 100,000, ANALYTICS_FLUSH_MS 500, ANALYTICS_BATCH_MAX 100).

1. search p50, alone: `--searches` sequential `GET /api/products/search` (JSON twin), one client.
2. ingestion: `--concurrency` clients post pre-built requests as fast as they are taken (or at
   `--rate` events/s), query ids from 50,000 searches written beforehand; `--mix random`:
   batches of `--batch` events, each of any search and position 1-24, 70% views, 20% clicks,
   7% add_to_cart, 3% purchase; `--mix widget`: what insights.js sends, per search one request
   with a view of each of 24 cards, then a click (40% of searches), an add_to_cart (10%) and a
   purchase (3%), each a request of its own. A 503 ANALYTICS_BUSY (buffer full) is retried
   after 50 ms. Meanwhile one client runs the same searches as in 1. The posting clients run
   in a process of their own and speak HTTP/1.1 through h11 (`Poster`), so that as little of
   the load generator's work as possible is in the searches' latency. The rate
   is events written (the app's `storestream_analytics_records_total`) over the time from the
   first post to the last write; the accepted rate is taken over the posting alone.
   Then the searches of 1 alone again, after the last write (a check on the baseline).
3. the report (`GET /api/analytics/search?days=7`, admin) over what was ingested: 3 runs.
4. the store's bulk path alone: `ShopperEvents.insert_many` of 1,000 documents at a time
   (the recorder's bulk), sequential, into a database of its own on the same server.

Results: bench/results/analytics_ingest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import re
import shutil
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h11
import httpx

from app.analytics.recorder import BATCH
from app.store.embedded import EmbeddedMongo
from app.store.mongo import Store
from app.store.repositories import FUNNEL, day_of
from bench.common import machine, pct
from tests.support.server import AppServer

RESULTS = Path(__file__).parent / "results" / "analytics_ingest.json"
ADMIN = "bench-admin-token"
QUERIES = ["red silk saree", "kurta", "blue lehenga under 20000", "cotton dupatta", "wedding sherwani", "green anarkali",
           "black jeans", "silk saree size M", "party wear gown", "yellow kurti", "linen shirt", "banarasi saree"]
TYPES = ["view"] * 70 + ["click"] * 20 + ["add_to_cart"] * 7 + ["purchase"] * 3
SEARCH_IDS = 50_000


# The widget mix (what insights.js sends): per search, one request with a view of each of the
# CARDS cards, then each click, add-to-cart and purchase in a request of its own.
CARDS = 24
WIDGET_FOLLOW_UPS = (("click", 0.4), ("add_to_cart", 0.1), ("purchase", 0.03))

Payload = tuple[bytes, int]  # a request body and the events in it


def bodies(events: int, batch: int, ids: list[str], mix: str = "random", seed: int = 7) -> list[Payload]:
    """The requests of `events` events: `random` (batches of `batch`, each event of any search,
    of any type by TYPES) or `widget` (as the widgets send them; `batch` unused)."""
    rnd = random.Random(seed)
    out: list[Payload] = []
    if mix == "random":
        for start in range(0, events, batch):
            chunk = [{"type": rnd.choice(TYPES), "query_id": rnd.choice(ids), "sku": f"SKU-{rnd.randrange(5000):05d}",
                      "position": rnd.randint(1, 24)} for _ in range(min(batch, events - start))]
            out.append((json.dumps({"events": chunk}).encode(), len(chunk)))
        return out
    left = events
    while left > 0:
        query_id = rnd.choice(ids)
        skus = [f"SKU-{n:05d}" for n in rnd.sample(range(5000), CARDS)]
        requests = [[{"type": "view", "query_id": query_id, "sku": sku, "position": i}
                     for i, sku in enumerate(skus[: min(CARDS, left)], start=1)]]
        for kind, chance in WIDGET_FOLLOW_UPS:
            if rnd.random() < chance:
                position = min(CARDS, int(rnd.expovariate(1 / 4)) + 1)  # most clicks near the top
                requests.append([{"type": kind, "query_id": query_id, "sku": skus[position - 1], "position": position}])
        for chunk in requests:
            if left > 0:
                chunk = chunk[:left]
                out.append((json.dumps({"events": chunk}).encode(), len(chunk)))
                left -= len(chunk)
    return out


async def search_latencies(client: httpx.AsyncClient, url: str, n: int, stop: asyncio.Event | None = None) -> list[float]:
    times: list[float] = []
    i = 0
    while (stop is None and i < n) or (stop is not None and not stop.is_set()):
        started = time.perf_counter()
        response = await client.get(f"{url}/api/products/search", params={"q": QUERIES[i % len(QUERIES)], "limit": 20})
        response.raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
        i += 1
    return times


async def written(client: httpx.AsyncClient, url: str) -> int:
    text = (await client.get(f"{url}/metrics")).text
    found = re.search(r'storestream_analytics_records_total\{kind="event",outcome="written"\} ([0-9.e+]+)', text)
    return int(float(found.group(1))) if found else 0


class Poster:
    """One keep-alive HTTP/1.1 connection posting event bodies, framed by h11 over asyncio
    streams: the load generator shares this machine's two cores with the app it measures, and
    httpx spent about 1.2 ms of CPU a request (39% of a core at 300 requests/s), h11 alone
    a fraction of that."""

    def __init__(self, url: str) -> None:
        parts = httpx.URL(url)
        self.host, self.port = parts.host, parts.port or 80
        self.target = b"/api/events"

    async def __aenter__(self) -> Poster:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.conn = h11.Connection(h11.CLIENT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.writer.close()

    async def post(self, body: bytes) -> int:
        """POST `body`; the response's status (its body read and dropped)."""
        if self.conn.our_state is h11.DONE:
            self.conn.start_next_cycle()
        headers = [("Host", f"{self.host}:{self.port}"), ("Content-Type", "application/json"),
                   ("Content-Length", str(len(body)))]
        self.writer.write(self.conn.send(h11.Request(method="POST", target=self.target, headers=headers))
                          + self.conn.send(h11.Data(data=body)) + self.conn.send(h11.EndOfMessage()))
        status = 0
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(await self.reader.read(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.EndOfMessage):
                return status
            elif isinstance(event, h11.ConnectionClosed):
                raise RuntimeError("the app closed the connection")


async def ingest(url: str, payloads: list[Payload], concurrency: int, rate: float) -> dict[str, Any]:
    """Post every payload; with `rate` (events/s), a payload is sent no earlier than (the events
    before it) / rate seconds after the start (an offered load), else as fast as they are taken."""
    queue = list(reversed(payloads))
    busy = 0
    sent = 0  # events in the payloads taken so far
    started = time.perf_counter()

    async def poster() -> None:
        nonlocal busy, sent
        async with Poster(url) as connection:
            while queue:
                body, n = queue.pop()
                if rate:
                    due = started + sent / rate
                    sent += n
                    if (wait := due - time.perf_counter()) > 0:
                        await asyncio.sleep(wait)
                while (status := await connection.post(body)) != 202:
                    if status != 503:
                        raise RuntimeError(f"POST /api/events answered {status}")
                    busy += 1
                    await asyncio.sleep(0.05)

    await asyncio.gather(*(poster() for _ in range(concurrency)))
    return {"accepted_s": time.perf_counter() - started, "busy_retries": busy, "started": started}


def post_events(url: str, events: int, batch: int, ids: list[str], concurrency: int, rate: float,
                mix: str) -> dict[str, Any]:
    """`ingest` of `events` generated events, in a process of its own (see `run`)."""
    payloads = bodies(events, batch, ids, mix)
    return asyncio.run(ingest(url, payloads, concurrency, rate)) | {"requests": len(payloads)}


async def store_path(url: str, events: int, ids: list[str]) -> dict[str, Any]:
    """The recorder's bulk write alone: `ShopperEvents.insert_many` of BATCH documents at a time."""
    store = Store.connect(url, "bench_store", 30_000)
    await store.ensure_indexes()
    rnd = random.Random(11)
    started = time.perf_counter()
    for start in range(0, events, BATCH):
        at = datetime.now(UTC)
        docs = [{"type": (t := rnd.choice(TYPES)), "query_id": rnd.choice(ids), "sku": "SKU-00001",
                 "position": rnd.randint(1, 24), "funnel": FUNNEL[t], "at": at, "day": day_of(at)}
                for _ in range(min(BATCH, events - start))]
        await store.shopper_events.insert_many(docs)
    seconds = time.perf_counter() - started
    await store.close()
    print(f"store bulk path: {events} events in {seconds:.1f} s = {events / seconds:,.0f}/s "
          f"(documents built in the loop included)", flush=True)
    return {"events": events, "seconds": seconds, "per_s": events / seconds}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
    mongo = EmbeddedMongo(folder)
    url = await asyncio.to_thread(mongo.start)
    result: dict[str, Any] = {"machine": machine(["nx-27017", "pymongo", "uvicorn", "starlette"]),
                              "args": vars(args)}
    try:
        ids = [uuid.UUID(int=random.Random(i).getrandbits(128)).hex for i in range(SEARCH_IDS)]
        store = Store.connect(url, "bench_http", 30_000)
        await store.ensure_indexes()
        at = datetime.now(UTC)
        rnd = random.Random(3)
        await store.searches.insert_many([{"_id": qid, "q": rnd.choice(QUERIES), "results": rnd.choice([0, 5, 20, 40]),
                                           "source": "search", "at": at, "day": day_of(at)} for qid in ids])
        await store.close()

        env = {"MONGODB_URL": url, "MONGODB_DB": "bench_http", "DATA_DIR": str(folder / "data"),
               "DEMO_CATALOG_SIZE": "5000", "SEARCH_EMBEDDINGS": "false", "ADMIN_TOKEN": ADMIN,
               "STREAMING_RATE_LIMIT": "100000000", "ANALYTICS_RATE_LIMIT": "100000000",
               "MONGODB_TIMEOUT_MS": "30000"}
        app = AppServer(env, log_dir=folder, factory="app.main:create_app").start(ready_timeout=120)
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                for _ in range(300):
                    health = (await client.get(f"{app.url}/healthz")).json()
                    if health["checks"]["search"]["ready"]:
                        break
                    await asyncio.sleep(0.5)
                await search_latencies(client, app.url, 30)  # warm-up
                alone = await search_latencies(client, app.url, args.searches)
                result["search_alone_ms"] = {"p50": statistics.median(alone), "p95": pct(alone, 95), "n": len(alone)}
                print(f"search alone: p50 {statistics.median(alone):.2f} ms  p95 {pct(alone, 95):.2f} ms", flush=True)

                stop = asyncio.Event()
                searching = asyncio.create_task(search_latencies(client, app.url, 0, stop))
                # The posting clients run in a process of their own: sharing this one's event loop,
                # their work would be counted in the searches' latency.
                with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                    posted = await asyncio.get_running_loop().run_in_executor(
                        pool, post_events, app.url, args.events, args.batch, ids, args.concurrency, args.rate, args.mix)
                while await written(client, app.url) < args.events:
                    await asyncio.sleep(0.2)
                total_s = time.perf_counter() - posted["started"]
                stop.set()
                during = await searching
                result["http"] = {
                    "events": args.events, "mix": args.mix, "requests": posted["requests"], "batch": args.batch,
                    "concurrency": args.concurrency, "offered_rate": args.rate,
                    "accepted_per_s": args.events / posted["accepted_s"], "written_per_s": args.events / total_s,
                    "seconds": total_s, "busy_retries": posted["busy_retries"],
                }
                result["search_during_ms"] = {"p50": statistics.median(during), "p95": pct(during, 95), "n": len(during)}
                ratio = statistics.median(during) / statistics.median(alone)
                result["search_p50_ratio"] = ratio
                print(f"HTTP ingest: {args.events} events written in {total_s:.1f} s = {args.events / total_s:,.0f}/s "
                      f"(accepted at {args.events / posted['accepted_s']:,.0f}/s, {posted['busy_retries']} busy retries)",
                      flush=True)
                print(f"search during ingest: p50 {statistics.median(during):.2f} ms  p95 {pct(during, 95):.2f} ms "
                      f"(n={len(during)}; p50 x{ratio:.2f})", flush=True)

                # Alone again, on the database as the ingestion left it: a p50 "alone" taken only
                # before could be a start-up figure; this one says the ratio is not.
                after = await search_latencies(client, app.url, args.searches)
                result["search_after_ms"] = {"p50": statistics.median(after), "p95": pct(after, 95), "n": len(after)}
                print(f"search alone after ingest: p50 {statistics.median(after):.2f} ms  p95 {pct(after, 95):.2f} ms",
                      flush=True)

                report_ms = []
                for _ in range(3):
                    started = time.perf_counter()
                    response = await client.get(f"{app.url}/api/analytics/search", params={"days": 7},
                                                headers={"Authorization": f"Bearer {ADMIN}"}, timeout=600)
                    response.raise_for_status()
                    report_ms.append((time.perf_counter() - started) * 1000)
                totals = response.json()["totals"]
                result["report_ms"] = {"runs": report_ms, "median": statistics.median(report_ms), "totals": totals}
                print(f"report over {args.events} events: {statistics.median(report_ms) / 1000:.2f} s median of 3 "
                      f"(searches {totals['searches']}, CTR {totals['click_through_rate']})", flush=True)
        finally:
            app.stop()

        if args.store_events:
            result["store"] = await store_path(url, args.store_events, ids)
    finally:
        await asyncio.to_thread(mongo.stop)
        shutil.rmtree(folder, ignore_errors=True)  # the database of a million events: hundreds of MB
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--store-events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100, help="events per request of the random mix")
    parser.add_argument("--mix", choices=("random", "widget"), default="random",
                        help="random: batches of any events; widget: as insights.js sends them")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--rate", type=float, default=0.0, help="events/s offered (0: as fast as they are taken)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
