"""Sales-agent turn latency against the chat stream in the same run (the peer: the agent adds
intent analysis, memory and market figures on top of the same search and composer).

For each turn: time after `connected` to the intent result, to the product cards, to the
first `text`, and to `close`; over loopback against a real app process with the embedded
MongoDB, a 2,000-product demo catalog with MiniLM embeddings, no speech.

    .venv/bin/python -m bench.agent_latency            # 40 sessions x 4 turns
    .venv/bin/python -m bench.agent_latency --quick    # 10 sessions

Each session is a scripted conversation (a search, "show me cheaper ones", "in <colour>",
"compare the first two"); the chat peer is asked the same messages one by one.
Results: bench/results/agent_latency.json and .md.
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
import tempfile  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

from bench.chat_latency import pct  # noqa: E402  (the same percentiles as its peer)
from bench.common import machine  # noqa: E402
from tests.support.server import AppServer, wait_for_search  # noqa: E402

COLORS = ["red", "blue", "green", "black", "pink", "maroon", "yellow", "white"]
OPENERS = ["{c} lehenga for a wedding under 30k", "{c} silk saree", "shaadi ke liye {c} sherwani",
           "{c} kurta for office under 3000", "party wear {c} dress", "{c} anarkali for festive season"]


def sessions(n: int) -> list[list[str]]:
    out = []
    for i in range(n):
        color, other = COLORS[i % len(COLORS)], COLORS[(i + 3) % len(COLORS)]
        opener = OPENERS[i % len(OPENERS)].format(c=color)
        out.append([opener, "show me cheaper ones", f"in {other}", "compare the first two"])
    return out


async def turn(client: httpx.AsyncClient, url: str, body: dict) -> tuple[dict[str, float], str | None]:
    marks: dict[str, float] = {}
    session = None
    kind = ""
    async with asyncio.timeout(60):
        async with client.stream("POST", url, json=body) as response:
            async for line in response.aiter_lines():
                now = time.perf_counter()
                if line.startswith("event: "):
                    kind = line[7:]
                    if kind == "connected":
                        marks["connected"] = now
                    elif kind == "text":
                        marks.setdefault("first_text", now)
                    elif kind == "close":
                        marks["close"] = now
                elif line.startswith("data: ") and kind in ("connected", "results"):
                    data = json.loads(line[6:])
                    if kind == "connected":
                        session = data.get("session_id")
                    elif data.get("type") == "intent":
                        marks.setdefault("intent", now)
                    elif data.get("type") == "product_cards":
                        marks.setdefault("cards", now)
    base = marks["connected"]
    return {k: (v - base) * 1000 for k, v in marks.items() if k != "connected"}, session


async def measure(server: AppServer, script: list[list[str]]) -> dict[str, list[dict[str, float]]]:
    agent_url = f"{server.url}/api/troika/intelligent-chat/stream"
    chat_url = f"{server.url}/api/chat/query/stream"
    rows: dict[str, list[dict[str, float]]] = {"agent": [], "chat": []}
    async with httpx.AsyncClient(timeout=60) as client:
        await turn(client, agent_url, {"message": "warm up red saree"})
        await turn(client, chat_url, {"query": "warm up red saree"})
        for messages in script:
            session = None
            for message in messages:
                body = {"message": message, **({"sessionId": session} if session else {})}
                marks, session = await turn(client, agent_url, body)
                rows["agent"].append(marks)
            chat_session = f"bench-{time.monotonic_ns()}"
            for message in messages:
                marks, _ = await turn(client, chat_url, {"query": message, "sessionId": chat_session})
                rows["chat"].append(marks)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    script = sessions(10 if args.quick else 40)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"MONGODB_URL": "", "DATA_DIR": tmp, "DEMO_CATALOG_SIZE": "2000", "SEARCH_EMBEDDINGS": "true",
               "TTS_ENGINE": "off", "STREAMING_RATE_LIMIT": "100000000", "LOG_LEVEL": "WARNING"}
        server = AppServer(env, log_dir=Path(tmp)).start(ready_timeout=120)
        try:
            wait_for_search(server, min_vectors=2000)
            rows = asyncio.run(measure(server, script))
        finally:
            server.stop()

    def summary(kind: str, key: str) -> dict[str, float] | None:
        values = [r[key] for r in rows[kind] if key in r]
        if not values:
            return None
        return {"p50": round(pct(values, 0.5), 1), "p99": round(pct(values, 0.99), 1), "n": len(values)}

    keys = ("intent", "cards", "first_text", "close")
    result = {
        "command": "python -m bench.agent_latency" + (" --quick" if args.quick else ""),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(("uvicorn", "starlette", "sentence-transformers"), loadavg_at_end=round(os.getloadavg()[0], 2)),
        "turns": len(rows["agent"]),
        "agent": {k: summary("agent", k) for k in keys},
        "chat": {k: summary("chat", k) for k in keys},
        "duration_s": round(time.time() - started, 1),
    }

    def cell(kind: str, key: str) -> str:
        s = result[kind][key]
        return "—" if s is None else f"{s['p50']} / {s['p99']}"

    labels = {"intent": "intent result", "cards": "product cards", "first_text": "first `text`",
              "close": "`close` (whole turn)"}
    lines = ["| after `connected` (ms, p50 / p99) | Troika agent | chat stream (peer) |", "|---|---:|---:|"]
    lines += [f"| {labels[k]} | {cell('agent', k)} | {cell('chat', k)} |" for k in keys]
    lines += ["", f"{result['turns']} turns each ({len(script)} scripted sessions of 4 turns), "
              f"{result['date']}, load average at end {result['machine']['loadavg_at_end']}."]
    table = "\n".join(lines)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    suffix = "_quick" if args.quick else ""
    (out / f"agent_latency{suffix}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"agent_latency{suffix}.md").write_text(f"# Sales-agent turn latency\n\n`{result['command']}`\n\n{table}\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
