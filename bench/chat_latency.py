"""Chat stream latency: time to the first `text` and the first `audio` event after `connected`
(p50/p99), and streamed text events per second, with the `grounded` provider and the offline
speech engine (espeak-ng + lameenc), over loopback against a real app process.

    .venv/bin/python -m bench.chat_latency            # 120 questions
    .venv/bin/python -m bench.chat_latency --quick    # 30 questions

The app runs with its embedded MongoDB on a temporary folder, a 2,000-product demo catalog
with real MiniLM embeddings, TTS_ENGINE=espeak. Questions are varied shopper questions, each
asked once (no answer is cached anywhere); the client reads the raw SSE lines.
Results: bench/results/chat_latency.json and .md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform as pyplatform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

from tests.support.server import AppServer, wait_for_search  # noqa: E402

COLORS = ["red", "blue", "green", "black", "white", "pink", "gold", "maroon", "yellow", "grey"]
KINDS = ["lehenga", "saree", "kurta", "sherwani", "anarkali", "dress", "jeans", "shoes", "bag", "jacket"]
EXTRAS = ["for a wedding", "under 5000", "in silk", "for office", "size M", "for a party", "in cotton",
          "under 20k", "for festive season", "with embroidery", "", "best rated"]


def questions(n: int) -> list[str]:
    out = []
    for i in range(n):
        out.append(f"{COLORS[i % len(COLORS)]} {KINDS[(i // 3) % len(KINDS)]} {EXTRAS[i % len(EXTRAS)]}".strip())
    return list(dict.fromkeys(out))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def one(client: httpx.AsyncClient, url: str, query: str) -> dict[str, float]:
    marks: dict[str, float] = {}
    texts = 0
    async with asyncio.timeout(60):
        async with client.stream("POST", url, json={"query": query, "enableTTS": True}) as response:
            async for line in response.aiter_lines():
                if not line.startswith("event: "):
                    continue
                kind = line[7:]
                now = time.perf_counter()
                if kind == "connected":
                    marks["connected"] = now
                elif kind == "text":
                    texts += 1
                    marks.setdefault("first_text", now)
                    marks["last_text"] = now
                elif kind == "audio":
                    marks.setdefault("first_audio", now)
                elif kind == "close":
                    marks["close"] = now
    base = marks["connected"]
    span = marks["last_text"] - marks["first_text"]
    return {
        "first_text_ms": (marks["first_text"] - base) * 1000,
        "first_audio_ms": (marks["first_audio"] - base) * 1000 if "first_audio" in marks else float("nan"),
        "total_ms": (marks["close"] - base) * 1000,
        "text_events": texts,
        "text_events_per_s": texts / span if span > 0 else float("nan"),
    }


async def measure(server: AppServer, qs: list[str]) -> list[dict[str, float]]:
    url = f"{server.url}/api/chat/query/stream"
    async with httpx.AsyncClient(timeout=60) as client:
        for warm in ("warm up one", "warm up two red saree"):
            await one(client, url, warm)
        return [await one(client, url, q) for q in qs]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    qs = questions(30 if args.quick else 120)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "MONGODB_URL": "", "DATA_DIR": tmp, "DEMO_CATALOG_SIZE": "2000", "SEARCH_EMBEDDINGS": "true",
            "TTS_ENGINE": "espeak", "STREAMING_RATE_LIMIT": "100000000", "LOG_LEVEL": "WARNING",
        }
        server = AppServer(env, log_dir=Path(tmp)).start(ready_timeout=120)
        try:
            wait_for_search(server, min_vectors=2000)
            rows = asyncio.run(measure(server, qs))
        finally:
            server.stop()

    def summary(key: str) -> dict[str, float]:
        values = [r[key] for r in rows if r[key] == r[key]]
        return {"p50": round(pct(values, 0.5), 1), "p99": round(pct(values, 0.99), 1), "n": len(values)}

    result = {
        "command": "python -m bench.chat_latency" + (" --quick" if args.quick else ""),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": pyplatform.python_version(),
                    "load_average": os.getloadavg()[0]},
        "questions": len(qs),
        "first_text_ms": summary("first_text_ms"),
        "first_audio_ms": summary("first_audio_ms"),
        "total_ms": summary("total_ms"),
        "text_events_per_s": {"median": round(statistics.median(r["text_events_per_s"] for r in rows), 0)},
        "text_events_per_answer": {"median": statistics.median(r["text_events"] for r in rows)},
        "duration_s": round(time.time() - started, 1),
    }
    table = "\n".join([
        "| measure (after `connected`) | p50 | p99 | target |",
        "|---|---:|---:|---|",
        f"| first `text` (ms) | {result['first_text_ms']['p50']} | {result['first_text_ms']['p99']} | <= 100 |",
        f"| first `audio` (ms) | {result['first_audio_ms']['p50']} | {result['first_audio_ms']['p99']} | <= 400 |",
        f"| whole answer with audio (ms) | {result['total_ms']['p50']} | {result['total_ms']['p99']} | |",
        "",
        f"Streamed text events per second (median over answers): {result['text_events_per_s']['median']:.0f}; "
        f"text events per answer (median): {result['text_events_per_answer']['median']}. "
        f"{len(qs)} questions, {result['date']}, {os.cpu_count()} CPUs, load average at end "
        f"{result['machine']['load_average']:.2f}.",
    ])
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    suffix = "_quick" if args.quick else ""
    (out / f"chat_latency{suffix}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"chat_latency{suffix}.md").write_text(f"# Chat stream latency\n\n`{result['command']}`\n\n{table}\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
