"""Dropped connections: does every answer survive, and does the work run once?

100 chat and sales-agent streams (half of them with speech) go through a TCP proxy that
closes both sides after a random number of events (1 to 60: most answers send 60 to 200).
The client then waits a random 0-3 s and resumes with `Last-Event-ID`: on the same instance,
and, in the second run, on the other of two instances sharing Redis. Reported:

- complete answers / 100: the resumed stream ends with `complete` + `close`, and the text
  the client assembled (before and after the drop) equals the answer stored in MongoDB with
  status `complete`;
- producer runs per stream: the assistant messages stored for the stream's conversation
  (each run of the producer stores exactly one); the target is exactly 1;
- how many connections the proxy actually cut (a short answer can end before its drop).

    .venv/bin/python -m bench.drops             # 100 streams, one instance, then two
    .venv/bin/python -m bench.drops --quick     # 20 streams

Needs redis-server for the two-instance run (skipped, and said, without it). Results:
bench/results/drops.json and .md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import EventSource

from app.store.embedded import EmbeddedMongo, free_port
from bench.common import machine
from tests.support.redis_server import REDIS_SERVER, RedisServer
from tests.support.server import AppServer, wait_for_search

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "bench" / "results"
QUESTIONS = [
    "red silk saree for a wedding under 20000", "blue kurta under 2000", "what is your return policy",
    "shaadi ke liye red lehenga 20k tak", "black formal shoes for men", "green anarkali for festive season",
    "show me party wear dresses", "pink lehenga with dupatta", "white cotton kurta for office",
    "maroon sherwani for the groom",
]


class DropProxy:
    """A TCP proxy in front of one app instance. A connection opened with `arm(k)` before it
    is cut (both sides closed) once the server has sent its k-th SSE event (`\\n\\n`)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.cut = 0
        self._server: asyncio.Server | None = None
        self._next_k: list[int] = []
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> DropProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):  # idle keep-alive connections of the clients
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    def arm(self, k: int) -> None:
        self._next_k.append(k)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        k = self._next_k.pop(0) if self._next_k else 10**9
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def upstream() -> None:
            while data := await client_r.read(65536):
                server_w.write(data)
                await server_w.drain()

        async def downstream() -> None:
            events = 0
            while data := await server_r.read(65536):
                client_w.write(data)
                await client_w.drain()
                events += data.count(b"\n\n")
                if events >= k:
                    self.cut += 1
                    return

        up = asyncio.create_task(upstream())
        try:
            await downstream()
        except (ConnectionError, OSError, asyncio.CancelledError):  # cancelled: the proxy stops
            pass
        finally:
            up.cancel()
            for writer in (client_w, server_w):
                writer.close()


@dataclass
class Outcome:
    kind: str
    conversation: str = ""
    text: str = ""
    complete: bool = False
    resumes: int = 0
    events: int = 0
    error: str = ""
    runs: int = -1
    stored_status: str = ""
    stored_text: str = ""
    statuses: list[int] = field(default_factory=list)


async def read_events(response: httpx.Response, outcome: Outcome, state: dict[str, Any]) -> bool:
    """Read SSE events into `outcome`/`state`; True when `close` arrived."""
    async for sse in EventSource(response).aiter_sse():
        if sse.id:
            state["last_id"] = sse.id
        kind = sse.event
        data = sse.json()
        outcome.events += 1
        if kind == "connected":
            outcome.conversation = data.get("conversation_id", "")
            state["session"] = data.get("session_id", "")
        elif kind == "text":
            outcome.text = data["fullText"]
        elif kind == "complete":
            outcome.complete = True
        elif kind == "error":
            outcome.error = data.get("code", "")
        elif kind == "close":
            return True
    return False


async def one_stream(i: int, first: str, resume_to: str, proxy: DropProxy, rng: random.Random) -> Outcome:
    kind = "chat" if i % 2 == 0 else "agent"
    question = QUESTIONS[i % len(QUESTIONS)]
    speak = (i // 2) % 2 == 0
    if kind == "chat":
        path, body = "/api/chat/query/stream", {"query": question, "enableTTS": speak}
    else:
        path, body = "/api/troika/intelligent-chat/stream", {"message": question, "enableTTS": speak}
    outcome = Outcome(kind)
    state: dict[str, Any] = {"last_id": ""}
    proxy.arm(rng.randint(1, 60))
    async with asyncio.timeout(90), httpx.AsyncClient(timeout=30) as client:
        closed = False
        try:
            async with client.stream("POST", first + path, json=body) as response:
                outcome.statuses.append(response.status_code)
                closed = await read_events(response, outcome, state)
        except (httpx.HTTPError, OSError):
            pass
        while not closed and outcome.resumes < 5:
            await asyncio.sleep(rng.uniform(0, 3))
            outcome.resumes += 1
            try:
                async with client.stream("POST", resume_to + path, json=body,
                                         headers={"Last-Event-ID": state["last_id"]}) as response:
                    outcome.statuses.append(response.status_code)
                    if response.status_code == 204:
                        break
                    closed = await read_events(response, outcome, state)
            except (httpx.HTTPError, OSError):
                pass
    return outcome


async def stored(base: str, outcome: Outcome) -> None:
    """The assistant messages stored for the stream's conversation: how many runs, and the
    last one's status and text (waiting out any still `streaming`)."""
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(200):
            history = (await client.get(f"{base}/api/chat/conversations/{outcome.conversation}")).json()
            answers = [m for m in history.get("messages", []) if m["role"] == "assistant"]
            if answers and all(m["status"] != "streaming" for m in answers):
                break
            await asyncio.sleep(0.1)
    outcome.runs = len(answers)
    if answers:
        outcome.stored_status, outcome.stored_text = answers[-1]["status"], answers[-1]["content"]


async def run_scenario(name: str, apps: list[AppServer], n: int, concurrency: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    proxy = await DropProxy(apps[0].port).start()
    first = f"http://127.0.0.1:{proxy.port}"
    resume_to = apps[-1].url  # the same instance, or the other one
    gate = asyncio.Semaphore(concurrency)

    async def guarded(i: int) -> Outcome:
        async with gate:
            return await one_stream(i, first, resume_to, proxy, random.Random(rng.random()))

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(guarded(i) for i in range(n)))
    elapsed = time.perf_counter() - started
    await proxy.stop()
    for outcome in outcomes:
        if outcome.conversation:
            await stored(apps[0].url, outcome)
    whole = [o for o in outcomes if o.complete and o.stored_status == "complete" and o.text == o.stored_text]
    runs = [o.runs for o in outcomes]
    return {
        "scenario": name, "streams": n, "cut_by_proxy": proxy.cut, "complete_answers": len(whole),
        "producer_runs_per_stream": {str(r): runs.count(r) for r in sorted(set(runs))},
        "exactly_one_run": runs.count(1), "resumes": sum(o.resumes for o in outcomes),
        "statuses": sorted({s for o in outcomes for s in o.statuses}),
        "errors": sorted({o.error for o in outcomes if o.error}), "seconds": round(elapsed, 1),
        "failures": [{"i": i, "kind": o.kind, "complete": o.complete, "stored": o.stored_status, "runs": o.runs,
                      "error": o.error, "statuses": o.statuses, "same_text": o.text == o.stored_text}
                     for i, o in enumerate(outcomes) if o not in whole or o.runs != 1][:10],
    }


def start_app(env: dict[str, str], folder: Path) -> AppServer:
    app = AppServer(env, log_dir=folder, factory="app.main:create_app").start(ready_timeout=60)
    wait_for_search(app, min_vectors=0, timeout=120)
    return app


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--streams", type=int)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    n = args.streams or (20 if args.quick else 100)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mongo = EmbeddedMongo(folder / "mongo")
        url = mongo.start()
        base = {"MONGODB_URL": url, "DEMO_CATALOG_SIZE": "1000", "SEARCH_EMBEDDINGS": "false",
                "TTS_ENGINE": "espeak", "STREAMING_RATE_LIMIT": "100000", "LOG_LEVEL": "WARNING",
                "STREAMING_MAX_CONCURRENT_PER_IP": "100"}
        try:
            app = start_app({**base, "MONGODB_DB": "drops1", "DATA_DIR": str(folder / "d1")}, folder)
            try:
                results.append(await run_scenario("one instance", [app], n, 10, args.seed))
            finally:
                app.stop()
            if REDIS_SERVER is None:
                results.append({"scenario": "two instances", "skipped": "redis-server is not installed"})
            else:
                redis = RedisServer(folder / "redis").start()
                shared = {**base, "MONGODB_DB": "drops2", "RATE_LIMIT_STORAGE_URL": redis.url,
                          "STREAM_REPLAY_URL": redis.url}
                a = start_app({**shared, "DATA_DIR": str(folder / "a")}, folder)
                b = start_app({**shared, "DATA_DIR": str(folder / "b")}, folder)
                try:
                    results.append(await run_scenario("two instances (resume on the other)", [a, b], n, 10,
                                                      args.seed))
                finally:
                    a.stop()
                    b.stop()
                    redis.stop()
        finally:
            mongo.stop()
    report = {"machine": machine(("uvicorn", "starlette", "httpx", "redis")), "results": results}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "drops.json").write_text(json.dumps(report, indent=2))
    lines = ["| scenario | streams | cut by the proxy | complete answers | exactly one producer run | resumes | seconds |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        if "skipped" in r:
            lines.append(f"| {r['scenario']} | skipped: {r['skipped']} | | | | | |")
        else:
            lines.append(f"| {r['scenario']} | {r['streams']} | {r['cut_by_proxy']} | {r['complete_answers']} / "
                         f"{r['streams']} | {r['exactly_one_run']} / {r['streams']} | {r['resumes']} | {r['seconds']} |")
    m = report["machine"]
    lines.append("")
    lines.append(f"{m['date']}, {m['cpu_count']} CPUs, load average at start {m['loadavg_at_start'][0]}.")
    (RESULTS / "drops.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    for r in results:
        if r.get("failures"):
            print(r["scenario"], "failures:", json.dumps(r["failures"], indent=1))


if __name__ == "__main__":
    asyncio.run(main())
