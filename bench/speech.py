"""Speech under load: what espeak-ng can do on this machine, and what 200 speaking chat
streams from 40 client addresses get from the app.

    .venv/bin/python -m bench.speech                       # both parts, this checkout
    .venv/bin/python -m bench.speech --root ../old-checkout --label before
    .venv/bin/python -m bench.speech --skip-engine --env TTS_QUEUE_WAIT_S=5 --label wait-5

1. Engine: the offline engine (espeak-ng to WAV, lameenc to MP3, as the app runs it) on 48
   answer-like sentences, 1 to 8 at a time: sentences per second and time per sentence.
2. Load: `python -m app serve` from `--root` (grounded model, `TTS_ENGINE=espeak`, embedded
   database, 2,000 demo products, words-only search so the model's load does not blur the
   figures), `TRUSTED_PROXIES=127.0.0.1` and `X-Forwarded-For` so the 200 streams come from 40
   clients (5 each: under the per-client cap of 6 and the budget of 30 a minute). All 200 are
   opened at once; the server's espeak-ng children are counted every 3 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import EventSource
import psutil

ROOT = Path(__file__).resolve().parents[1]

from bench.common import machine, pct, stop_server  # noqa: E402

SENTENCES = [
    "I found 41 products matching red silk lehenga; here are the 4 best.",
    "The Banarasi silk saree by Kalki is rated 4.5 out of 5 and costs 12,999 rupees.",
    "Returns are accepted within 30 days of delivery, in the original packaging.",
    "Would you like to see it in blue?",
]
QUESTIONS = ["red silk saree for a wedding", "blue kurta under 2000", "lehenga for a sangeet",
             "cotton dupatta in yellow", "show me sherwanis", "something festive in green",
             "what is your return policy", "black party dress under 5000"]
STREAMS, CLIENTS = 200, 40


async def engine_throughput() -> list[dict[str, Any]]:
    from app.tts.espeak import EspeakEngine

    engine = EspeakEngine()
    await engine.synthesize("Warm up.", "en")
    rows = []
    for concurrent in (1, 2, 3, 4, 6, 8):
        limit = asyncio.Semaphore(concurrent)
        times: list[float] = []

        async def one(i: int) -> None:
            async with limit:
                started = time.perf_counter()
                await engine.synthesize(SENTENCES[i % len(SENTENCES)], "en")
                times.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(48)))
        elapsed = time.perf_counter() - started
        rows.append({"concurrent": concurrent, "sentences_per_s": round(48 / elapsed, 1),
                     "p50_ms": round(pct(times, 50) * 1000), "p90_ms": round(pct(times, 90) * 1000)})
        print(rows[-1], flush=True)
    return rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EspeakSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            count = 0
            for child in self.process.children():
                try:
                    count += child.name() == "espeak-ng" and child.status() != psutil.STATUS_ZOMBIE
                except psutil.NoSuchProcess:
                    pass
            self.peak = max(self.peak, count)
            time.sleep(0.003)


async def one_stream(client: httpx.AsyncClient, url: str, i: int) -> dict[str, Any]:
    headers = {"X-Forwarded-For": f"10.0.{i % CLIENTS // 250}.{i % CLIENTS + 1}"}
    body = {"query": QUESTIONS[i % len(QUESTIONS)], "enableTTS": True}
    started = time.perf_counter()
    out: dict[str, Any] = {"status": 0, "audio": 0, "errors": [], "ended": "", "seconds": 0.0, "first_text": None}
    try:
        async with client.stream("POST", f"{url}/api/chat/query/stream", json=body, headers=headers) as response:
            out["status"] = response.status_code
            async for sse in EventSource(response).aiter_sse():
                kind = sse.event
                if kind == "audio":
                    out["audio"] += 1
                elif kind == "text" and out["first_text"] is None:
                    out["first_text"] = time.perf_counter() - started
                elif kind == "error":
                    out["errors"].append(sse.json().get("code"))
                elif kind in ("complete", "close"):
                    out["ended"] = out["ended"] or kind
    except httpx.HTTPError as exc:
        out["errors"].append(type(exc).__name__)
    out["seconds"] = time.perf_counter() - started
    return out


async def load(root: Path, extra_env: dict[str, str]) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "DATA_DIR": data, "TTS_ENGINE": "espeak",
               "SEARCH_EMBEDDINGS": "false", "DEMO_CATALOG_SIZE": "2000", "LOG_LEVEL": "WARNING",
               "TRUSTED_PROXIES": "127.0.0.1", "HF_HUB_OFFLINE": "1", **extra_env}
        server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=root, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(120, connect=10),
                                         limits=httpx.Limits(max_connections=None)) as client:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    try:
                        checks = (await client.get(f"{url}/healthz")).json()["checks"]
                        if checks["search"]["ready"]:
                            break
                    except (httpx.HTTPError, ValueError, KeyError):
                        pass
                    await asyncio.sleep(0.3)
                await one_stream(client, url, 0)  # warm up (not counted)
                await asyncio.sleep(1)
                sampler = EspeakSampler(server.pid)
                sampler.start()
                started = time.perf_counter()
                streams = await asyncio.gather(*(one_stream(client, url, i) for i in range(STREAMS)))
                wall = time.perf_counter() - started
                sampler.stop.set()
                sampler.join()
        finally:
            stop_server(server)
    opened = [s for s in streams if s["status"] == 200]
    seconds = [s["seconds"] for s in opened]
    first = [s["first_text"] for s in opened if s["first_text"] is not None]
    return {
        "streams": STREAMS, "clients": CLIENTS, "opened": len(opened),
        "refused": {str(code): sum(1 for s in streams if s["status"] == code)
                    for code in sorted({s["status"] for s in streams}) if code != 200},
        "peak_espeak_processes": sampler.peak,
        "timed_out": sum(1 for s in opened if "STREAM_TIMEOUT" in s["errors"]),
        "completed": sum(1 for s in opened if s["ended"] == "complete"),
        "audio_chunks": sum(s["audio"] for s in opened),
        "streams_with_audio": sum(1 for s in opened if s["audio"]),
        "streams_told_tts_unavailable": sum(1 for s in opened if "TTS_UNAVAILABLE" in s["errors"]),
        "stream_seconds_p50": round(pct(seconds, 50), 2) if seconds else None,
        "stream_seconds_p95": round(pct(seconds, 95), 2) if seconds else None,
        "stream_seconds_max": round(max(seconds), 2) if seconds else None,
        "first_text_ms_p50": round(pct(first, 50) * 1000) if first else None,
        "first_text_ms_p95": round(pct(first, 95) * 1000) if first else None,
        "wall_seconds": round(wall, 1),
        "settings": extra_env,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT), help="the checkout to run the app from")
    parser.add_argument("--label", default="", help="name of this run in bench/results/speech.json")
    parser.add_argument("--env", action="append", default=[], help="VAR=value for the app (repeatable)")
    parser.add_argument("--skip-engine", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args()
    root = Path(args.root).resolve()
    extra = dict(item.split("=", 1) for item in args.env)
    result: dict[str, Any] = {"machine": machine(["uvicorn", "lameenc"]), "root": str(root)}
    if not args.skip_engine:
        result["engine"] = asyncio.run(engine_throughput())
    if not args.skip_load:
        result["load"] = asyncio.run(load(root, extra))
        print(json.dumps(result["load"], indent=2), flush=True)
    out = ROOT / "bench" / "results" / "speech.json"
    out.parent.mkdir(exist_ok=True)
    runs = json.loads(out.read_text()) if out.exists() else {}
    runs[args.label or "latest"] = result
    out.write_text(json.dumps(runs, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
